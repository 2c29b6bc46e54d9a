import type { ConversationFlavor } from "@grammyjs/conversations";
import { Composer, type Context, InlineKeyboard } from "grammy";
import { CATEGORIES } from "../../src/engine/settings/catalog.ts";
import { type SettingView, settingsOverview } from "../../src/engine/settings/effective.ts";
import { optional } from "../telegram/safe.ts";
import type { FeatureDeps } from "./deps.ts";

/**
 * Browsing the settings with buttons (/config without arguments, owner only): categories → the
 * settings of one category with the values in effect (paged) → one setting with its description,
 * rules and how to change it; its Change button enters the edit conversation of ./config.ts.
 * Navigation edits the one message in place, so the chat does not fill with menus.
 *
 * Callback data (at most 64 bytes; category ids are short, a backend's is "b.<name>" with a name
 * of at most 40 characters; a setting is addressed by its index in its category):
 *   cfg:l              the category list
 *   cfg:c:<cat>:<page> one page of a category
 *   cfg:k:<cat>:<i>    one setting
 *   cfg:e:<cat>:<i>    change that setting
 */
export const PAGE_SIZE = 8;

/** The bot's context (HermesContext of ./config.ts, which imports this file). */
type HermesContext = ConversationFlavor<Context>;

export function configBrowser(d: FeatureDeps): Composer<HermesContext> {
  const composer = new Composer<HermesContext>();
  const overview = () => settingsOverview(d.config, { env: d.env, backends: d.engine.backendStatus() });

  composer.callbackQuery(/^cfg:(?:l|([cke]):([\w.-]+):(\d+))$/, async (ctx) => {
    if (!d.isOwner(ctx)) {
      const text = "Only the owner can see settings.";
      return void (await optional(() => ctx.answerCallbackQuery({ text }), d.log, "answerCallbackQuery"));
    }
    const [, what = "l", cat = "", n = "0"] = ctx.match;
    await optional(() => ctx.answerCallbackQuery(), d.log, "answerCallbackQuery");
    const all = overview();
    if (what === "l") return show(ctx, categoryList(all));
    const inCategory = all.views.filter((v) => v.category.id === cat);
    const index = Number(n);
    const notSetUp = cat.startsWith("b.") ? all.notSetUp.get(cat.slice(2)) : undefined;
    if (what === "c") return show(ctx, categoryPage(inCategory, cat, index, notSetUp));
    const setting = inCategory[index];
    if (!setting) return show(ctx, categoryList(all));
    if (what === "k") return show(ctx, settingPage(setting, cat, index));
    if (!setting.editable) return void (await ctx.reply(`${setting.key} cannot be changed at runtime.`));
    await ctx.conversation.enter("config-edit", setting.key);
  });

  return composer;
}

/** The first screen of /config: the categories as buttons. */
export function settingsMenu(d: FeatureDeps): Screen {
  return categoryList(settingsOverview(d.config, { env: d.env, backends: d.engine.backendStatus() }));
}

type Overview = ReturnType<typeof settingsOverview>;

/** The setting as shown now, undefined for an unknown key. */
function viewOf(d: FeatureDeps, key: string): SettingView | undefined {
  return settingsOverview(d.config, { env: d.env, backends: d.engine.backendStatus() }).views.find(
    (x) => x.key === key,
  );
}

const pointlessToChange = (v: SettingView | undefined) => v?.flag === "unused" || v?.flag === "env";

/** "\n⚠ <why>" when the setting is not what decides now (or its stored value is invalid); else "". */
export function settingWarning(d: FeatureDeps, key: string): string {
  const v = viewOf(d, key);
  return v?.note && v.flag !== undefined && v.flag !== "runtime" ? `\n⚠ ${v.note}` : "";
}

/**
 * What follows "✅ saved": that a restart is needed, and — when the setting is not what decides
 * (nothing reads it, the environment wins, its backend is not set up) — why the change alone
 * changes nothing now.
 */
export function afterChange(d: FeatureDeps, key: string, requiresRestart: boolean): string {
  const restart = requiresRestart && !pointlessToChange(viewOf(d, key));
  return `${settingWarning(d, key)}${restart ? "\nRestart Hermes for it to take effect." : ""}`;
}

export interface Screen {
  text: string;
  keyboard: InlineKeyboard;
}

/** Edits the message the button was on; sends a new one where editing fails. */
async function show(ctx: Context, screen: Screen): Promise<void> {
  try {
    await ctx.editMessageText(screen.text, { reply_markup: screen.keyboard });
  } catch (error) {
    // Tapping the same button twice leaves the text as it was: nothing to do.
    if (String(error).includes("message is not modified")) return;
    await ctx.reply(screen.text, { reply_markup: screen.keyboard });
  }
}

function categoryList({ views, notSetUp }: Overview): Screen {
  const order = (id: string) => {
    const i = CATEGORIES.findIndex((c) => c.id === id);
    // Each backend's settings sit right after the backend choice.
    return i === -1 ? CATEGORIES.findIndex((c) => c.id === "select") + 0.5 : i;
  };
  const counts = new Map<string, { title: string; n: number }>();
  for (const v of views) {
    const c = counts.get(v.category.id) ?? { title: v.category.title, n: 0 };
    counts.set(v.category.id, { ...c, n: c.n + 1 });
  }
  const keyboard = new InlineKeyboard();
  const ids = [...counts.keys()].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  ids.forEach((id, i) => {
    const c = counts.get(id) as { title: string; n: number };
    const off = id.startsWith("b.") && notSetUp.has(id.slice(2));
    keyboard.text(`${c.title} (${off ? "not set up" : c.n})`, `cfg:c:${id}:0`);
    if (i % 2 === 1) keyboard.row();
  });
  const flagged = views.filter(
    (v) => (v.flag === "inactive" || v.flag === "invalid") && !notSetUp.has(v.category.id.slice(2)),
  ).length;
  return {
    text: [
      "⚙️ Settings — pick a category. Each shows the values in effect now.",
      notSetUp.size > 0 ? `Backends not set up here: ${[...notSetUp.keys()].join(", ")}.` : "",
      flagged > 0 ? `⚠ ${flagged} other setting(s) are not in effect as stored; their pages say why.` : "",
      "To change one directly: /config <key> <value>",
    ]
      .filter(Boolean)
      .join("\n"),
    keyboard,
  };
}

function categoryPage(
  inCategory: readonly SettingView[],
  cat: string,
  page: number,
  notSetUp: string | undefined,
): Screen {
  const pages = Math.max(1, Math.ceil(inCategory.length / PAGE_SIZE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const shown = inCategory.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
  const title = inCategory[0]?.category.title ?? "Settings";
  const keyboard = new InlineKeyboard();
  shown.forEach((v, i) => {
    keyboard.text(shortName(v.key, inCategory), `cfg:k:${cat}:${p * PAGE_SIZE + i}`);
    if (i % 2 === 1) keyboard.row();
  });
  keyboard.row();
  if (p > 0) keyboard.text("‹ Previous", `cfg:c:${cat}:${p - 1}`);
  keyboard.text("⬆ Categories", "cfg:l");
  if (p < pages - 1) keyboard.text("Next ›", `cfg:c:${cat}:${p + 1}`);
  return {
    text: [
      `⚙️ ${title}${pages > 1 ? ` (page ${p + 1} of ${pages})` : ""}`,
      notSetUp
        ? `⚠ ${cat.slice(2)} is not set up here (${notSetUp}): none of these settings is in effect.`
        : "",
      "",
      // A backend that is not set up: the notice above says it for every line.
      ...shown.map((v) => line(v, notSetUp !== undefined)),
      "",
      "Tap a setting for what it does and how to change it.",
    ]
      .filter((l, i) => l !== "" || i > 1)
      .join("\n"),
    keyboard,
  };
}

/** `key = value` and a word when the stored row is not simply what is in effect. */
function line(v: SettingView, backendOff: boolean): string {
  const mark =
    v.flag === "env"
      ? " (from the environment)"
      : v.flag === "runtime"
        ? " (changed while running)"
        : v.flag === "inactive"
          ? backendOff
            ? ""
            : " ⚠ not in effect"
          : v.flag === "unused"
            ? " · not used"
            : v.flag === "invalid"
              ? " ⚠ invalid, default in effect"
              : "";
  return `• ${v.key} = ${shown(v.value)}${mark}${v.editable ? "" : " 🔒"}`;
}

function settingPage(v: SettingView, cat: string, index: number): Screen {
  const keyboard = new InlineKeyboard();
  // A setting nothing reads (or that the environment replaces): changing it would change nothing.
  const pointless = pointlessToChange(v);
  if (v.editable && !pointless) keyboard.text("✏️ Change", `cfg:e:${cat}:${index}`);
  keyboard.text("‹ Back", `cfg:c:${cat}:${Math.floor(index / PAGE_SIZE)}`);
  return {
    text: [
      `⚙️ ${v.key}`,
      `Value: ${shown(v.value, 1500)}`,
      v.stored !== undefined ? `Stored: ${shown(v.stored, 1500)}` : "",
      v.note ? `${v.flag === "inactive" || v.flag === "invalid" ? "⚠ " : ""}${v.note}` : "",
      "",
      v.description,
      v.rules,
      "",
      !v.editable
        ? "Fixed: it cannot be changed while Hermes runs."
        : pointless
          ? "Changing it has no effect now."
          : `To change it: tap Change, or send /config ${v.key} <value>.`,
      v.editable && !pointless && v.requiresRestart ? "A change takes effect after a restart of Hermes." : "",
    ]
      .filter((l, i, a) => l !== "" || (a[i - 1] !== "" && i > 0))
      .join("\n")
      .trim(),
    keyboard,
  };
}

/** A value as shown: "(empty)", or cut at `max` characters so a page stays well under 4096. */
const shown = (value: string, max = 80) =>
  value === "" ? "(empty)" : value.length > max ? `${value.slice(0, max - 1)}…` : value;

/** The button label of a key: its last part, or the last two where the last is not unique here. */
function shortName(key: string, inCategory: readonly SettingView[]): string {
  const last = (k: string) => k.split(".").at(-1) ?? k;
  const unique = inCategory.filter((v) => last(v.key) === last(key)).length === 1;
  const label = unique ? last(key) : key.split(".").slice(-2).join(".");
  return label.length > 30 ? `${label.slice(0, 29)}…` : label;
}
