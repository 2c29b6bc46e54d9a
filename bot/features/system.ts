import { Composer } from "grammy";
import { errorText } from "../telegram/error-text.ts";
import type { HermesContext } from "./config.ts";
import { type FeatureDeps, userOf } from "./deps.ts";

/**
 * System: commands about Hermes itself rather than one idea: backend health and the queue
 * (/health), managing backends (/backends, owner only), spend (/budget) and what was learned
 * (/patterns). Settings (/config) are ./config.ts.
 */
export function systemFeature(d: FeatureDeps): Composer<HermesContext> {
  return new Composer<HermesContext>(backendCommands(d), usageCommands(d));
}

/** Backend health and the queue, and enabling or disabling a backend. */
function backendCommands(d: FeatureDeps): Composer<HermesContext> {
  const { engine } = d;
  const composer = new Composer<HermesContext>();

  composer.command("health", async (ctx) => {
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

  composer.command("backends", async (ctx) => {
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

  return composer;
}

/** What Hermes costs today and what it has learned. */
function usageCommands(d: FeatureDeps): Composer<HermesContext> {
  const { engine } = d;
  const composer = new Composer<HermesContext>();

  composer.command("budget", async (ctx) => {
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

  composer.command("patterns", async (ctx) => {
    const text = await engine.patternsSummary(userOf(ctx));
    await ctx.reply(text ?? "Nothing learned yet — rate a few drafts and answer some questions first.");
  });

  return composer;
}
