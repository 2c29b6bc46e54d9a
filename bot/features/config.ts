import {
  type Conversation,
  type ConversationFlavor,
  conversations,
  createConversation,
} from "@grammyjs/conversations";
import { Composer, type Context } from "grammy";
import { isSecretKey, maskSecret, type SystemConfig } from "../../src/config/system-config.ts";
import { errorText } from "../telegram/error-text.ts";
import { afterChange, configBrowser, settingsMenu, settingWarning } from "./config-browser.ts";
import { type FeatureDeps, userOf } from "./deps.ts";

export type HermesContext = ConversationFlavor<Context>;

/** Where conversation state lives (kv_store over SQLite in production), so it survives restarts. */
export interface ConversationStateStore {
  read(key: string): unknown;
  write(key: string, value: unknown): void;
  delete(key: string): void;
}

const MAX_TRIES = 3;
const CANCEL = "config:cancel";
const CANCEL_BUTTON = { reply_markup: { inline_keyboard: [[{ text: "Cancel", callback_data: CANCEL }]] } };

/** `/cancel` or `/cancel@HermesBot`. */
const isCancel = (text: string) => /^\/cancel(@\w+)?$/i.test(text.trim());

/**
 * Config (owner only): /config browses the settings with buttons (./config-browser.ts),
 * `/config <key> <value>` changes one, and `/config <key>` (or a setting's Change button) edits it
 * in a conversation. The conversations plugin comes first so that, while an edit waits for its
 * value, the typed value goes to the conversation and not to other features.
 */
export function configFeature(d: FeatureDeps, store: ConversationStateStore): Composer<HermesContext> {
  return new Composer<HermesContext>(configConversation(d, store), configCommand(d), configBrowser(d));
}

/**
 * `/config <key>` without a value: an interactive edit with the conversations plugin. Hermes shows
 * the setting and waits for the new value; an invalid one is explained and asked again (three
 * tries). The Cancel button or /cancel leaves. Any other command is never taken as the value: it
 * ends the edit (nothing saved) and runs as usual. The change goes through SystemConfig.set, so it
 * is validated, audited with the acting user and announced like one from the API. The
 * conversation's state is persisted, so a restart in between is harmless.
 */
function configConversation(d: FeatureDeps, store: ConversationStateStore): Composer<HermesContext> {
  const composer = new Composer<HermesContext>();
  composer.use(
    conversations({
      storage: {
        type: "key",
        version: 1,
        prefix: "conv:",
        getStorageKey: (ctx) => (ctx.chat ? `${ctx.chat.id}` : undefined),
        adapter: {
          read: (key) => store.read(key) as never,
          write: (key, state) => store.write(key, state),
          delete: (key) => store.delete(key),
        },
      },
    }),
  );

  composer.use(
    createConversation(
      editConfigFor(d.config, {
        warning: (key) => settingWarning(d, key),
        after: (key, restart) => afterChange(d, key, restart),
      }),
      "config-edit",
    ),
  );
  return composer;
}

/** The body of the "config-edit" conversation described above configConversation. */
/** The notes around an edit: why a setting may not decide now, and what follows a saved change. */
interface EditNotes {
  warning: (key: string) => string;
  after: (key: string, requiresRestart: boolean) => string;
}

function editConfigFor(config: SystemConfig, { warning, after }: EditNotes) {
  return async function editConfig(
    conversation: Conversation<HermesContext, Context>,
    ctx: Context,
    key: string,
  ) {
    const row = config.row(key);
    if (!row) return void (await ctx.reply(`There is no setting called ${key}.`));
    if (!row.is_user_editable) return void (await ctx.reply(`${key} cannot be changed at runtime.`));
    const current = isSecretKey(key) ? maskSecret(row.config_value) : row.config_value;
    const warn = await conversation.external(() => warning(key));
    await ctx.reply(
      `${key} = ${current || "(empty)"}${warn}\n${row.description ?? ""}\n\nSend the new value, or /cancel.`,
      CANCEL_BUTTON,
    );
    const editor = ctx.from?.id;
    for (let attempt = 1; attempt <= MAX_TRIES; ) {
      const answer = await conversation.wait();
      // Someone else in the chat, or a button of another message: not for this edit.
      if (answer.from?.id !== editor || (answer.callbackQuery && answer.callbackQuery.data !== CANCEL)) {
        await conversation.skip({ next: true });
      }
      if (answer.callbackQuery) {
        await answer.answerCallbackQuery();
        return void (await answer.reply(`${key}: left unchanged.`));
      }
      const text = answer.message?.text;
      if (text === undefined) {
        await answer.reply(`Send the new value of ${key} as text, or /cancel.`, CANCEL_BUTTON);
        continue;
      }
      if (isCancel(text)) return void (await answer.reply(`${key}: left unchanged.`));
      if (text.trim().startsWith("/")) {
        // A command is never a value: the edit ends unsaved and the command runs as usual.
        await answer.reply(`${key}: left unchanged (a command is not a value).`);
        await conversation.halt({ next: true });
      }
      const by = `telegram:${answer.from?.id}`;
      const result = await conversation.external(async () => {
        try {
          const change = await config.set(key, text, by);
          return { ok: true as const, after: after(key, change.requiresRestart) };
        } catch (error) {
          return { ok: false as const, message: errorText(error) };
        }
      });
      if (result.ok) {
        return void (await answer.reply(`✅ ${key} updated.${result.after}`));
      }
      await answer.reply(
        `${result.message}\n${attempt < MAX_TRIES ? "Try again, or /cancel." : "Left unchanged."}`,
        attempt < MAX_TRIES ? CANCEL_BUTTON : {},
      );
      attempt++;
    }
  };
}

/** The /config command: browse, set in one go, or enter the edit conversation above. */
function configCommand(d: FeatureDeps): Composer<HermesContext> {
  const composer = new Composer<HermesContext>();

  composer.command("config", async (ctx) => {
    if (!d.isOwner(ctx)) return void (await ctx.reply("Only the owner can see or change settings."));
    const [key, ...rest] = ctx.match.trim().split(/\s+/).filter(Boolean);
    const show = (k: string) => {
      const row = d.config.row(k);
      if (!row) return undefined;
      const value = isSecretKey(k) ? maskSecret(row.config_value) : row.config_value;
      const range = [row.min_value && `min ${row.min_value}`, row.max_value && `max ${row.max_value}`]
        .filter(Boolean)
        .join(", ");
      return `${k} = ${value || "(empty)"}${row.is_user_editable ? "" : " (fixed)"}${range ? ` [${range}]` : ""}\n  ${row.description ?? ""}`;
    };
    try {
      if (!key) {
        const menu = settingsMenu(d);
        return void (await ctx.reply(menu.text, { reply_markup: menu.keyboard }));
      }
      if (rest.length === 0) {
        if (!d.config.has(key)) return void (await ctx.reply(`There is no setting called ${key}.`));
        await ctx.conversation.enter("config-edit", key);
        return;
      }
      const change = await d.config.set(key, rest.join(" "), `telegram:${userOf(ctx)}`);
      await ctx.reply(`✅ ${show(key)}${afterChange(d, key, change.requiresRestart)}`);
    } catch (error) {
      await ctx.reply(errorText(error));
    }
  });

  return composer;
}
