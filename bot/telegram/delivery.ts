import { type Api, InputFile } from "grammy";
import type { EngineEvent } from "../../src/engine/engine.ts";
import { errorCodeText } from "./error-text.ts";
import { ratingKeyboard } from "./keyboards.ts";
import { optional } from "./safe.ts";
import { splitMessage } from "./split.ts";

export interface DeliveryLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type RememberMessage = (chatId: string, messageId: number, threadId: number, kind: string) => void;

/** Beyond this many messages a draft goes as a .md document (falling back to messages). */
const MAX_PARTS_AS_MESSAGES = 3;

/**
 * A call that has a fallback gets 5 s (retries included) before the fallback is used. grammY
 * types its signal parameter with the abort-controller polyfill; the native signal is what it uses.
 */
export const optionalCallSignal = () => AbortSignal.timeout(5000) as never;

/**
 * Turns engine events for Telegram threads into messages: the draft when it is ready (with rating
 * buttons), one notice when a job starts retrying (not one per attempt), and the final failure.
 * Model output is sent as plain text (no parse mode), so no output can break a message.
 */
export function createDelivery(api: Api, log: DeliveryLog, remember: RememberMessage) {
  return async ({ event, thread, shortId, draft }: EngineEvent): Promise<void> => {
    if (thread.source !== "telegram" || !thread.chat_id) return;
    const chatId = thread.chat_id;
    switch (event.type) {
      case "started":
        await optional(() => api.sendChatAction(chatId, "typing"), log, "sendChatAction");
        return;
      case "completed": {
        if (!draft) return;
        const header = [
          `📝 Draft ${draft.draftNumber} · thread ${shortId} · ${draft.backend ?? "?"}/${draft.model ?? "?"}`,
          draft.whatChanged,
        ]
          .filter(Boolean)
          .join("\n");
        const ids = await sendLong(
          api,
          chatId,
          header,
          draft.text,
          `hermes-${shortId}-draft${draft.draftNumber}.md`,
          log,
        );
        for (const id of ids) remember(chatId, id, thread.id, "draft");
        const rate = await api.sendMessage(chatId, "How is this draft?", {
          reply_markup: ratingKeyboard(draft.jobId),
        });
        remember(chatId, rate.message_id, thread.id, "rating");
        return;
      }
      case "retrying":
        if (event.retryCount !== 1) return;
        await api.sendMessage(
          chatId,
          [
            `⏳ Thread ${shortId} is queued, not lost.`,
            errorCodeText(event.error.code, event.error.message, event.error.userAction),
            "It will run by itself as soon as a backend answers — you don't need to send it again.",
          ].join("\n"),
        );
        return;
      case "failed":
        await api.sendMessage(
          chatId,
          [
            `❌ Thread ${shortId} failed.`,
            errorCodeText(event.error.code, event.error.message, event.error.userAction),
          ].join("\n"),
        );
        return;
      default:
        return;
    }
  };
}

/** Sends a long text as messages split on paragraph boundaries, or as a document when very long. Returns message ids. */
export async function sendLong(
  api: Api,
  chatId: string,
  header: string,
  body: string,
  fileName: string,
  log: DeliveryLog,
): Promise<number[]> {
  const parts = splitMessage(`${header}\n\n${body}`);
  if (parts.length > MAX_PARTS_AS_MESSAGES) {
    const sent = await optional(
      () =>
        api.sendDocument(
          chatId,
          new InputFile(Buffer.from(body, "utf8"), fileName),
          { caption: header.slice(0, 1000) },
          optionalCallSignal(),
        ),
      log,
      "sendDocument",
    );
    if (sent) return [sent.message_id];
  }
  const ids: number[] = [];
  for (const part of parts) ids.push((await api.sendMessage(chatId, part)).message_id);
  return ids;
}
