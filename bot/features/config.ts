import {
  type Conversation,
  type ConversationFlavor,
  conversations,
  createConversation,
} from "@grammyjs/conversations";
import type { Bot, Context } from "grammy";
import { isSecretKey, maskSecret, type SystemConfig } from "../../src/config/system-config.ts";
import { errorText } from "../telegram/error-text.ts";

export type HermesContext = ConversationFlavor<Context>;

/** Where conversation state lives (kv_store over SQLite in production), so it survives restarts. */
export interface ConversationStateStore {
  read(key: string): unknown;
  write(key: string, value: unknown): void;
  delete(key: string): void;
}

const MAX_TRIES = 3;

/**
 * `/config <key>` without a value: an interactive edit with the conversations plugin. Hermes shows
 * the setting and waits for the new value; an invalid one is explained and asked again (three
 * tries); /cancel leaves. The conversation's state is persisted, so a restart in between is harmless.
 */
export function installConfigConversation(
  bot: Bot<HermesContext>,
  config: SystemConfig,
  store: ConversationStateStore,
): void {
  bot.use(
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

  async function editConfig(conversation: Conversation<HermesContext, Context>, ctx: Context, key: string) {
    const row = config.row(key);
    if (!row) return void (await ctx.reply(`There is no setting called ${key}.`));
    if (!row.is_user_editable) return void (await ctx.reply(`${key} cannot be changed at runtime.`));
    const current = isSecretKey(key) ? maskSecret(row.config_value) : row.config_value;
    await ctx.reply(
      `${key} = ${current || "(empty)"}\n${row.description ?? ""}\n\nSend the new value, or /cancel.`,
    );
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      const answer = await conversation.waitFor("message:text");
      const value = answer.message.text.trim();
      if (value === "/cancel") return void (await answer.reply("Left unchanged."));
      const by = `telegram:${answer.from.id}`;
      const result = await conversation.external(async () => {
        try {
          const change = await config.set(key, value, by);
          return { ok: true as const, restart: change.requiresRestart };
        } catch (error) {
          return { ok: false as const, message: errorText(error) };
        }
      });
      if (result.ok) {
        return void (await answer.reply(
          `✅ ${key} updated.${result.restart ? " Restart Hermes for it to take effect." : ""}`,
        ));
      }
      await answer.reply(
        `${result.message}\n${attempt < MAX_TRIES ? "Try again, or /cancel." : "Left unchanged."}`,
      );
    }
  }

  bot.use(createConversation(editConfig, "config-edit"));
}
