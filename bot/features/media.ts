import { Composer, type Context, type NextFunction } from "grammy";
import type { Document, Message } from "grammy/types";
import type { SystemConfig } from "../../src/config/system-config.ts";
import { isHermesError } from "../../src/errors.ts";
import type { Recording, Transcriber } from "../../src/transcription/client.ts";
import { ENABLE_TRANSCRIPTION_HINT } from "../../src/transcription/settings.ts";
import { FileFetchError, type TelegramFiles } from "../telegram/files.ts";
import { optional } from "../telegram/safe.ts";
import { attach, attachmentOf } from "./attachments.ts";
import type { HermesContext } from "./config.ts";

export interface MediaDeps {
  config: Pick<SystemConfig, "number" | "string">;
  isOwner: (ctx: Context) => boolean;
  files: TelegramFiles;
  /** Undefined or unconfigured: voice notes get the one-line how-to. */
  transcriber: Transcriber | undefined;
  log: { debug(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * Voice, photos and files in. Each becomes a text — a voice note's transcript, a caption, a
 * caption with an attached .txt/.md document — which then goes on to the plain-text handlers
 * (threads, questions, ideas: see bot/bot.ts) exactly as if it had been typed: a new idea, the
 * answer to the open question, or information for the thread it replies to. So this Composer
 * sits before them and decides nothing about where a text goes.
 */
export function mediaFeature(d: MediaDeps): Composer<HermesContext> {
  const composer = new Composer<HermesContext>();
  composer.on(["message:voice", "message:audio", "message:video_note"], (ctx, next) =>
    spoken(d, ctx, ctx.message, next),
  );
  composer.on("message:photo", (ctx, next) => photo(d, ctx, ctx.message, next));
  composer.on("message:document", (ctx, next) => attached(d, ctx, ctx.message, next));
  return composer;
}

/**
 * The text goes on to the plain-text handlers as the message's own text: one path for a text
 * however it arrived. A leading "/" is dropped: commands are typed, never spoken or captioned.
 */
function asTyped(ctx: HermesContext, text: string, next: NextFunction): Promise<void> {
  Object.assign(ctx.update.message as Message, { text: text.replace(/^\/+/, "").trim() });
  return next();
}

/** Longest echo of a transcript (the whole text still goes on; a message holds 4,096 characters). */
const ECHO_CHARS = 3000;

/** A voice note, an audio file or a video note: downloaded, transcribed, echoed, then as typed. */
async function spoken(d: MediaDeps, ctx: HermesContext, m: Message, next: NextFunction): Promise<void> {
  const recording = recordingOf(m);
  if (!recording) return next();
  if (!d.isOwner(ctx)) return void (await ctx.reply("Guests can send ideas as text only."));
  const settings = d.transcriber?.settings();
  if (!d.transcriber || !settings) return void (await ctx.reply(ENABLE_TRANSCRIPTION_HINT));
  await optional(() => ctx.replyWithChatAction("typing"), d.log, "sendChatAction");
  let text: string;
  try {
    const data = await d.files.download(recording.fileId, recording.size);
    text = await d.transcriber.transcribe(settings, { data, fileName: recording.fileName });
  } catch (error) {
    return void (await ctx.reply(failureText(d, error, "🎙 I couldn't transcribe that")));
  }
  if (!text) return void (await ctx.reply("🎙 I couldn't make out any words in that recording."));
  const echo = text.length > ECHO_CHARS ? `${text.slice(0, ECHO_CHARS)}… (${text.length} characters)` : text;
  await ctx.reply(`🎙 I heard: “${echo}”`);
  await asTyped(ctx, text, next);
}

/** Where a recording is and what to call it (the extension tells the server its format). */
function recordingOf(
  m: Message,
): { fileId: string; size: number | undefined; fileName: Recording["fileName"] } | undefined {
  if (m.voice) return { fileId: m.voice.file_id, size: m.voice.file_size, fileName: "voice.ogg" };
  if (m.video_note)
    return { fileId: m.video_note.file_id, size: m.video_note.file_size, fileName: "video-note.mp4" };
  if (m.audio)
    return { fileId: m.audio.file_id, size: m.audio.file_size, fileName: m.audio.file_name ?? "audio.mp3" };
  return undefined;
}

/**
 * A photo: its caption is the text. With a vision backend configured (hermes.vision.*), the photo
 * goes with a new idea to it; otherwise, or when the caption is an answer or a reply, the photo
 * is not read — and the user is told which.
 */
async function photo(d: MediaDeps, ctx: HermesContext, m: Message, next: NextFunction): Promise<void> {
  const text = m.caption?.trim();
  const vision = d.isOwner(ctx) && visionConfigured(d.config);
  if (!text)
    return void (await ctx.reply(
      vision
        ? "🖼 Send the photo again with a caption that says your idea, or type it."
        : "🖼 I can't see images yet — send the photo again with a caption that says your idea, or type it.",
    ));
  if (!vision) {
    await ctx.reply(
      "🖼 I took your caption alone — I can't see images yet, so the photo itself was not read.",
    );
    return asTyped(ctx, text, next);
  }
  let image: Uint8Array;
  try {
    image = await d.files.download(...photoToSend(m));
  } catch (error) {
    return void (await ctx.reply(failureText(d, error, "🖼 I couldn't get the photo")));
  }
  attach(ctx, { images: [Buffer.from(image).toString("base64")] });
  await asTyped(ctx, text, next);
  const seen = attachmentOf(ctx)?.seenBy;
  await ctx.reply(
    seen
      ? `🖼 The photo goes with your idea to ${seen.backend} · ${seen.model}.`
      : "🖼 The photo itself was not read — only your caption went in.",
  );
}

const visionConfigured = (config: MediaDeps["config"]) =>
  config.string("hermes.vision.backend").trim() !== "" && config.string("hermes.vision.model").trim() !== "";

/** Vision models work on about 1,000 px; the largest size up to 1,280 px is plenty and small. */
const PHOTO_MAX_SIDE = 1280;

function photoToSend(m: Message): [string, number | undefined] {
  const sizes = m.photo ?? [];
  const fitting = sizes.filter((p) => Math.max(p.width, p.height) <= PHOTO_MAX_SIDE);
  const chosen = fitting.at(-1) ?? sizes[0];
  return [chosen?.file_id ?? "", chosen?.file_size];
}

const TEXT_DOCUMENT = /\.(txt|md|markdown)$/i;
const TEXT_MIME = /^text\/(plain|markdown|x-markdown)$/i;
const isTextDocument = (doc: Document) =>
  TEXT_DOCUMENT.test(doc.file_name ?? "") || TEXT_MIME.test(doc.mime_type ?? "");

/** A document: a .txt/.md one is read into the idea as its context; anything else leaves the caption alone. */
async function attached(d: MediaDeps, ctx: HermesContext, m: Message, next: NextFunction): Promise<void> {
  const doc = m.document as Document;
  const name = doc.file_name ?? "document";
  const caption = m.caption?.trim() ?? "";
  if (!isTextDocument(doc)) {
    if (!caption)
      return void (await ctx.reply(
        "📎 I can read .txt and .md documents; for anything else, tell me your idea in words (a caption works).",
      ));
    await ctx.reply(
      `📎 I took your caption alone — I read only .txt and .md documents, so ${name} itself was not read.`,
    );
    return asTyped(ctx, caption, next);
  }
  let content: string;
  try {
    content = readText(await d.files.download(doc.file_id, doc.file_size));
  } catch (error) {
    return void (await ctx.reply(failureText(d, error, `📎 I couldn't read ${name}`)));
  }
  const text = withDocument(d, caption, name, content);
  if (!text.ok) return void (await ctx.reply(text.problem));
  await ctx.reply(text.note);
  await asTyped(ctx, text.text, next);
}

/** The bytes as UTF-8 text; a binary file (NUL bytes) is refused rather than pasted into a prompt. */
function readText(bytes: Uint8Array): string {
  const text = new TextDecoder("utf-8").decode(bytes).replace(/^\uFEFF/, "");
  if (text.includes("\u0000")) throw new FileFetchError("it does not look like a text file");
  return text.trim();
}

type WithDocument = { ok: true; text: string; note: string } | { ok: false; problem: string };

/**
 * The caption and the document, labelled as such so the prompt shows what the user attached. The
 * document is cut to hermes.telegram.max_document_chars and to what hermes.web.max_input_length
 * leaves after the caption; the note says how much was taken.
 */
function withDocument(d: MediaDeps, caption: string, name: string, content: string): WithDocument {
  if (!content) return { ok: false, problem: `📎 ${name} is empty — nothing to read.` };
  const head = `Attached document ${name}:\n`;
  const rest = d.config.number("hermes.web.max_input_length") - caption.length - head.length - 2;
  const room = Math.min(d.config.number("hermes.telegram.max_document_chars"), rest);
  if (room < 1)
    return {
      ok: false,
      problem: "📎 The caption alone fills the idea's length limit; shorten it and send the document again.",
    };
  const body = content.slice(0, room);
  const text = [caption, `${head}${body}`].filter((s) => s !== "").join("\n\n");
  const cut =
    content.length > room ? ` — only the first ${room} of ${content.length} characters fit the limit` : "";
  return { ok: true, text, note: `📄 Read ${name} (${body.length} characters)${cut}.` };
}

/** What went wrong, for the chat: our own sentences, never a URL (it holds the bot token) or a key. */
function failureText(d: MediaDeps, error: unknown, head: string): string {
  if (error instanceof FileFetchError) return `${head}: ${error.message}`;
  if (isHermesError(error)) return [`${head}.`, error.message, error.userAction].filter(Boolean).join(" ");
  d.log.warn({ err: error instanceof Error ? error.name : typeof error }, "media not read");
  return `${head}: something went wrong inside Hermes. Type it instead.`;
}
