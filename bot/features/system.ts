import type { Bot } from "grammy";
import { isSecretKey, maskSecret } from "../../src/config/system-config.ts";
import { errorText } from "../telegram/error-text.ts";
import { splitMessage } from "../telegram/split.ts";
import type { HermesContext } from "./config.ts";
import { type CommandDeps, userOf } from "./deps.ts";

/**
 * Commands about Hermes itself rather than one idea: backend health and the queue (/health),
 * managing backends (/backends, owner only), spend (/budget), what was learned (/patterns) and
 * settings (/config, owner only).
 */
export function installSystemCommands(bot: Bot<HermesContext>, d: CommandDeps): void {
  const { engine } = d;

  bot.command("health", async (ctx) => {
    const lines = engine.backendStatus().map((b) => {
      const icon =
        b.health === "healthy" ? "🟢" : b.health === "degraded" ? "🟡" : b.health === "unknown" ? "⚪" : "🔴";
      const err = b.health === "healthy" || !b.lastError ? "" : ` — ${b.lastError}`;
      return `${icon} ${b.name} (${b.kind}, ${b.location}) · ${b.defaultModel} · ${b.running}/${b.concurrency} running${err}`;
    });
    const q = engine.queueCounts();
    lines.push(
      "",
      `Queue: ${q.queued ?? 0} queued, ${q.running ?? 0} running, ${q.retrying ?? 0} retrying, ${q.pending ?? 0} waiting on others`,
    );
    await ctx.reply(lines.join("\n"));
  });

  bot.command("backends", async (ctx) => {
    if (!d.isOwner(ctx)) return void (await ctx.reply("Only the owner can manage backends."));
    const [verb, name] = ctx.match.trim().split(/\s+/).filter(Boolean);
    try {
      if ((verb === "enable" || verb === "disable") && name) {
        engine.setBackendEnabled(name, verb === "enable");
        await ctx.reply(`${name} is now ${verb}d.`);
        return;
      }
      if (verb)
        return void (await ctx.reply("Usage: /backends, /backends enable <name>, /backends disable <name>."));
      const lines = engine.backendStatus().map((b) => {
        const state = !b.enabled
          ? "⏸ disabled"
          : b.health === "healthy"
            ? "🟢"
            : b.health === "unhealthy"
              ? "🔴"
              : "🟡";
        return `${state} ${b.name} · ${b.kind}${b.free ? " · free" : " · paid"} · ${b.defaultModel} · ${b.location}`;
      });
      await ctx.reply([...lines, "", "/backends enable <name> or /backends disable <name>"].join("\n"));
    } catch (error) {
      await ctx.reply(errorText(error));
    }
  });

  bot.command("budget", async (ctx) => {
    const b = engine.budgetSummary();
    const paid = engine.backendStatus().filter((s) => !s.free && s.enabled);

    await ctx.reply(
      [
        `💸 Today (${b.day} UTC): spent ${b.spentCents}¢, reserved for running jobs ${b.reservedCents}¢.`,
        `Daily budget ${b.dailyLimitCents}¢ (${b.remainingCents}¢ left); per idea ${b.projectLimitCents}¢; remote use needs ${b.minRemoteBudgetCents}¢ left.`,
        paid.length === 0
          ? "Only free local backends are enabled: nothing costs money."
          : `Paid backends: ${paid.map((p) => p.name).join(", ")}.`,
        b.alertsSent.length > 0 ? `Alerts sent today at ${b.alertsSent.join("%, ")}%.` : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
  });

  bot.command("patterns", async (ctx) => {
    const text = await engine.patternsSummary();
    await ctx.reply(text ?? "Nothing learned yet — rate a few drafts and answer some questions first.");
  });

  bot.command("config", async (ctx) => {
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
        const text = d.config
          .list()
          .filter((r) => r.is_user_editable)
          .map(
            (r) =>
              `${r.config_key} = ${isSecretKey(r.config_key) ? maskSecret(r.config_value) : r.config_value}`,
          )
          .join("\n");
        for (const part of splitMessage(`Editable settings (/config <key> <value> to change):\n${text}`))
          await ctx.reply(part);
        return;
      }
      if (rest.length === 0) {
        if (!d.config.has(key)) return void (await ctx.reply(`There is no setting called ${key}.`));
        await ctx.conversation.enter("config-edit", key);
        return;
      }
      const change = await d.config.set(key, rest.join(" "), `telegram:${userOf(ctx)}`);
      await ctx.reply(
        `✅ ${show(key)}${change.requiresRestart ? "\nRestart Hermes for this to take effect." : ""}`,
      );
    } catch (error) {
      await ctx.reply(errorText(error));
    }
  });
}
