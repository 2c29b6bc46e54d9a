import type { InlineKeyboard } from "grammy";
import { type Api, InputFile } from "grammy";
import type { EngineEvent } from "../../src/engine/engine.ts";
import { ChatOrder } from "./chat-order.ts";
import { errorCodeText } from "./error-text.ts";
import { ratingKeyboard } from "./keyboards.ts";
import { markdownToEntities } from "./markdown.ts";
import { optional } from "./safe.ts";
import { type FormattedPart, splitFormatted, withPrefix } from "./split.ts";

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
 * Model Markdown is sent as text + entities (markdown.ts): nothing to escape, and a refused
 * message is resent plain.
 */
export function createDelivery(
  api: Api,
  log: DeliveryLog,
  remember: RememberMessage,
  order: ChatOrder = new ChatOrder(),
) {
  return async ({ event, thread, shortId, draft }: EngineEvent): Promise<void> => {
    if (thread.source !== "telegram" || !thread.chat_id) return;
    const chatId = thread.chat_id;
    switch (event.type) {
      case "completed": {
        if (!draft) return;
        const header = `📝 Draft ${draft.draftNumber} · thread ${shortId} · ${draft.backend ?? "?"}/${draft.model ?? "?"}`;
        const ids = await order.turn(chatId, () =>
          sendDraft(api, chatId, {
            header,
            whatChanged: draft.whatChanged,
            body: draft.text,
            fileName: `hermes-${shortId}-draft${draft.draftNumber}.md`,
            keyboard: ratingKeyboard(draft.jobId),
            log,
          }),
        );
        for (const id of ids) remember(chatId, id, thread.id, "draft");
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

export interface DraftMessage {
  header: string;
  whatChanged?: string | undefined;
  body: string;
  fileName: string;
  keyboard: InlineKeyboard;
  log: DeliveryLog;
}

/** Room for the "(12/12) " part prefix. */
const PART_PREFIX_RESERVE = 8;

/**
 * A draft as formatted messages: header in bold, what changed in italics, the body rendered from
 * Markdown; split on block boundaries and numbered "(1/2)" when long, link previews off, and the
 * rating buttons on the last part. Very long drafts go as a .md document carrying the buttons.
 */
export async function sendDraft(api: Api, chatId: string, m: DraftMessage): Promise<number[]> {
  const formatted = draftFormatted(m);
  const parts = splitFormatted(formatted, undefined, PART_PREFIX_RESERVE);
  if (parts.length > MAX_PARTS_AS_MESSAGES) {
    const caption = [m.header, m.whatChanged].filter(Boolean).join("\n").slice(0, 1000);
    const sent = await optional(
      () =>
        api.sendDocument(
          chatId,
          new InputFile(Buffer.from(m.body, "utf8"), m.fileName),
          { caption, reply_markup: m.keyboard },
          optionalCallSignal(),
        ),
      m.log,
      "sendDocument",
    );
    if (sent) return [sent.message_id];
  }
  const ids: number[] = [];
  for (const [i, part] of parts.entries()) {
    const numbered = parts.length > 1 ? withPrefix(`(${i + 1}/${parts.length}) `, part) : part;
    const last = i === parts.length - 1;
    ids.push(await sendFormatted(api, chatId, numbered, last ? m.keyboard : undefined, m.log));
  }
  return ids;
}

function draftFormatted(m: DraftMessage) {
  const body = markdownToEntities(m.body);
  const head = [m.header, m.whatChanged].filter(Boolean).join("\n");
  const shift = head.length + 2;
  const entities = [
    { type: "bold" as const, offset: 0, length: m.header.length },
    ...(m.whatChanged
      ? [{ type: "italic" as const, offset: m.header.length + 1, length: m.whatChanged.length }]
      : []),
    ...body.entities.map((e) => ({ ...e, offset: e.offset + shift })),
  ];
  return {
    text: `${head}\n\n${body.text}`,
    entities,
    blockStarts: [shift, ...body.blockStarts.map((o) => o + shift)],
  };
}

/** One formatted message; if Telegram refuses it (a bad entity), the same text plain rather than nothing. */
async function sendFormatted(
  api: Api,
  chatId: string,
  part: FormattedPart,
  keyboard: InlineKeyboard | undefined,
  log: DeliveryLog,
): Promise<number> {
  const common = {
    link_preview_options: { is_disabled: true },
    ...(keyboard ? { reply_markup: keyboard } : {}),
  };
  try {
    return (await api.sendMessage(chatId, part.text, { ...common, entities: part.entities })).message_id;
  } catch (error) {
    if (!isBadRequest(error)) throw error;
    log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "formatted draft refused; sent plain",
    );
    return (await api.sendMessage(chatId, part.text, common)).message_id;
  }
}

const isBadRequest = (error: unknown) =>
  typeof error === "object" && error !== null && (error as { error_code?: unknown }).error_code === 400;
