import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, type Logger } from "../../src/log.ts";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { FakeTranscription } from "../fakes/fake-transcription.ts";
import { type BotMessage, TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { TelegramFiles } from "../fakes/telegram-files.ts";
import { OWNER_ID, startTestHermes } from "../helpers/hermes-harness.ts";
import { type Cleanups, stopAll } from "./chat-setup.ts";

/**
 * Voice, photos and files in (issue 14): a voice note is downloaded from Telegram, transcribed by
 * an OpenAI-compatible server, echoed, and then goes where typed text goes; a caption is the idea;
 * a .txt/.md document is its context; too-large files and a missing transcription service are
 * said in a line. Telegram's file side is test/fakes/telegram-files.ts in front of the emulator.
 */
const cleanups: Cleanups = [];
afterEach(() => stopAll(cleanups));

const KEY = "sk-transcribe-e2e-SECRET-987654";
const isAck = (m: BotMessage) => m.text.startsWith("💡 Got it");

async function setup(
  options: {
    transcription?: boolean;
    logger?: Logger;
    config?: Record<string, string>;
    models?: string[];
  } = {},
) {
  const tg = await TelegramEmulator.start();
  cleanups.push(() => tg.stop());
  const files = await TelegramFiles.start(tg.apiRoot, tg.token);
  cleanups.push(() => files.stop());
  const ollama = await FakeOllama.start(options.models ? { models: options.models } : {});
  cleanups.push(() => ollama.stop());
  const stt = await FakeTranscription.start();
  cleanups.push(() => stt.stop());
  const h = await startTestHermes(
    {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: files.apiRoot,
      OLLAMA_HOST: ollama.url,
      ...(options.transcription === false
        ? {}
        : { HERMES_TRANSCRIBE_URL: stt.url, HERMES_TRANSCRIBE_API_KEY: KEY }),
    },
    options.config ?? {},
    options.logger,
  );
  cleanups.push(() => h.stop());
  const client = tg.client(OWNER_ID);
  /** A user message without text: a voice note, a photo or a document (with its caption). */
  const send = (fields: Record<string, unknown>) => {
    const m = client.makeMessage("", fields as never) as unknown as Record<string, unknown>;
    delete m.text;
    return client.sendMessage(m as never);
  };
  const ideas = () =>
    h.hermes.database.sqlite
      .prepare("SELECT original_request FROM idea_threads ORDER BY id")
      .pluck()
      .all() as string[];
  return { tg, files, ollama, stt, h, client, send, ideas };
}

const voice = (file_id: string, file_size?: number) => ({
  voice: {
    file_id,
    file_unique_id: file_id,
    duration: 4,
    mime_type: "audio/ogg",
    ...(file_size ? { file_size } : {}),
  },
});

describe("voice notes", () => {
  it("a voice note is transcribed, echoed, and becomes an idea like typed text", async () => {
    const { tg, files, stt, send, ideas } = await setup();
    stt.text = "A reading list app that suggests one book a week";
    const id = files.add(Buffer.from("OggS fake opus bytes"), "oga");
    await send(voice(id, 20));
    const echo = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("🎙"), 5000, "echo");
    expect(echo.text).toBe("🎙 I heard: “A reading list app that suggests one book a week”");
    const ack = await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    expect(ack.text).toContain("A reading list app");
    expect(ideas()).toEqual(["A reading list app that suggests one book a week"]);
    expect(stt.requests).toEqual([
      expect.objectContaining({
        model: "whisper-1",
        fileName: "voice.ogg",
        fileBytes: 20,
        authorization: `Bearer ${KEY}`,
      }),
    ]);
    // The echo comes before the acknowledgement, as the user would expect.
    const texts = tg.botMessages(OWNER_ID).map((m) => m.text);
    expect(texts.indexOf(echo.text)).toBeLessThan(texts.indexOf(ack.text));
  });

  it("a spoken answer to an open question is recorded as the answer, as typed text would be", async () => {
    const { tg, files, stt, h, client, send } = await setup();
    await client.sendMessage(client.makeMessage("Write a weekly newsletter about local food"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("❓ 1."), 5000, "question 1");
    stt.text = "Mostly neighbours in my street";
    await send(voice(files.add(Buffer.from("OggS answer"), "oga")));
    const answers = () =>
      h.hermes.database.sqlite
        .prepare(
          "SELECT user_response FROM conversations WHERE user_response IS NOT NULL AND user_response NOT LIKE '(%'",
        )
        .pluck()
        .all();
    await expect.poll(answers, { timeout: 5000 }).toEqual(["Mostly neighbours in my street"]);
    expect(tg.botMessages(OWNER_ID).filter(isAck)).toHaveLength(1);
  });

  it("a voice note replying to an idea's message adds information to that idea, as a typed reply would", async () => {
    const { tg, files, stt, client, send, ideas } = await setup();
    await client.sendMessage(client.makeMessage("Write a weekly newsletter about local food"));
    const ack = await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("❓ 1."), 5000, "question 1");
    stt.text = "Also include a recipe from a neighbour each week";
    await send({
      ...voice(files.add(Buffer.from("OggS reply"), "oga"), 10),
      reply_to_message: { message_id: ack.message_id, chat: { id: OWNER_ID }, date: 0, text: ack.text },
    });
    const added = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📎 Added to"), 5000, "added");
    expect(added.text).toContain("Question 1 is still open");
    expect(ideas()).toHaveLength(1);
  });

  it("a voice note over Telegram's 20 MB limit gets the clear message; nothing is downloaded or transcribed", async () => {
    const { tg, files, stt, send, ideas } = await setup();
    const id = files.add(Buffer.from("x"), "oga", 25 * 1024 * 1024);
    await send(voice(id, 25 * 1024 * 1024));
    const m = await tg.waitFor(OWNER_ID, (x) => x.text.startsWith("🎙"), 5000, "too-large message");
    expect(m.text).toBe(
      "🎙 I couldn't transcribe that: it is 25.0 MB, and Telegram lets bots download files up to 20 MB. Send a shorter recording or a smaller file.",
    );
    // Without a size in the message, Telegram's own refusal of getFile gives the same message.
    await send(voice(id));
    await tg.waitFor(OWNER_ID, (x) => x.text.includes("over 20 MB"), 5000, "getFile refusal");
    expect(files.getFileCalls).toEqual([id]);
    expect(files.downloads).toEqual([]);
    expect(stt.requests).toEqual([]);
    expect(ideas()).toEqual([]);
  });

  it("without a transcription service, the bot says in one line how to turn it on", async () => {
    const { tg, files, send, ideas } = await setup({ transcription: false });
    await send(voice(files.add(Buffer.from("OggS"), "oga"), 4));
    const m = await tg.waitFor(OWNER_ID, (x) => x.text.startsWith("🎙"), 5000, "how-to");
    expect(m.text).toContain("Voice notes are off: set HERMES_TRANSCRIBE_URL");
    expect(m.text).toContain("hermes.transcription.url");
    expect(m.text).not.toContain("\n");
    expect(files.getFileCalls).toEqual([]);
    expect(ideas()).toEqual([]);
  });

  it("a failing transcription service is said with its host, never the key; nothing becomes an idea", async () => {
    const { tg, files, stt, send, ideas } = await setup();
    stt.status = 401;
    await send(voice(files.add(Buffer.from("OggS"), "oga"), 4));
    const m = await tg.waitFor(OWNER_ID, (x) => x.text.startsWith("🎙"), 5000, "failure");
    expect(m.text).toContain(`at ${new URL(stt.url).host} answered HTTP 401`);
    expect(JSON.stringify(tg.botMessages(OWNER_ID))).not.toContain(KEY);
    expect(ideas()).toEqual([]);
  });
});

describe("the transcription key", () => {
  it("is never logged, not even at trace level with no redaction, on success or failure", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    // No secrets to redact: whatever Hermes writes, the key must not be in it.
    const logger = createLogger({ level: "trace", secrets: [], destination });
    const { tg, files, stt, send } = await setup({ logger });
    await send(voice(files.add(Buffer.from("OggS one"), "oga"), 8));
    await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    stt.status = 401;
    await send(voice(files.add(Buffer.from("OggS two"), "oga"), 8));
    await tg.waitFor(OWNER_ID, (m) => m.text.includes("answered HTTP 401"), 5000, "failure");
    expect(stt.requests.map((r) => r.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("")).not.toContain(KEY);
  });
});

describe("photos and documents", () => {
  const photo = [{ file_id: "photo-1", file_unique_id: "p1", width: 640, height: 480, file_size: 1000 }];

  it("a captioned photo becomes an idea from its caption, and the bot says the image was not read", async () => {
    const { tg, send, ideas } = await setup();
    await send({ photo, caption: "Turn this whiteboard sketch into a garden plan" });
    const note = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("🖼"), 5000, "photo note");
    expect(note.text).toContain("the photo itself was not read");
    await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    expect(ideas()).toEqual(["Turn this whiteboard sketch into a garden plan"]);
  });

  it("a photo without a caption asks for one and starts nothing", async () => {
    const { tg, send, ideas } = await setup();
    await send({ photo });
    const m = await tg.waitFor(OWNER_ID, (x) => x.text.startsWith("🖼"), 5000, "ask for caption");
    expect(m.text).toContain("with a caption");
    expect(ideas()).toEqual([]);
  });

  it("a .md document becomes the idea's context, labelled as such in the draft prompt", async () => {
    const { tg, files, ollama, send, ideas } = await setup();
    const notes = "# Trip\n- Lisbon in May\n- two kids, budget 2000 EUR";
    const id = files.add(Buffer.from(notes), "md");
    await send({
      document: {
        file_id: id,
        file_unique_id: id,
        file_name: "trip.md",
        mime_type: "text/markdown",
        file_size: notes.length,
      },
      caption: "Plan our family holiday",
    });
    await tg.waitFor(
      OWNER_ID,
      (m) => m.text === `📄 Read trip.md (${notes.length} characters).`,
      5000,
      "read note",
    );
    await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    expect(ideas()).toEqual([`Plan our family holiday\n\nAttached document trip.md:\n${notes}`]);
    await expect
      .poll(
        () => ollama.requests.some((r) => JSON.stringify(r.messages).includes("Attached document trip.md:")),
        {
          timeout: 5000,
        },
      )
      .toBe(true);
  });

  it("a long document is cut to the setting, and the bot says how much was taken", async () => {
    const { tg, files, h, send, ideas } = await setup();
    await h.hermes.config.set("hermes.telegram.max_document_chars", "100", "test");
    const text = "0123456789".repeat(30);
    const id = files.add(Buffer.from(text), "txt");
    await send({
      document: { file_id: id, file_unique_id: id, file_name: "long.txt", file_size: text.length },
    });
    const note = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📄"), 5000, "read note");
    expect(note.text).toBe(
      `📄 Read long.txt (100 characters) — only the first 100 of ${text.length} characters fit the limit.`,
    );
    await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    expect(ideas()).toEqual([`Attached document long.txt:\n${text.slice(0, 100)}`]);
  });

  it("a PDF with a caption: the caption alone, and the bot says the file was not read", async () => {
    const { tg, files, send, ideas } = await setup();
    const id = files.add(Buffer.from("%PDF-1.7"), "pdf");
    await send({
      document: {
        file_id: id,
        file_unique_id: id,
        file_name: "brief.pdf",
        mime_type: "application/pdf",
        file_size: 8,
      },
      caption: "Summarise the brief for the kitchen renovation",
    });
    const note = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("📎"), 5000, "note");
    expect(note.text).toContain("brief.pdf itself was not read");
    await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    expect(ideas()).toEqual(["Summarise the brief for the kitchen renovation"]);
    expect(files.downloads).toEqual([]);
  });
});

describe("photos with a vision backend (hermes.vision.*)", () => {
  const VISION = { "hermes.vision.backend": "ollama", "hermes.vision.model": "llava:latest" };
  const models = ["llama3.1:8b", "qwen2.5-coder:7b", "llava:latest"];
  const photoOf = (files: TelegramFiles, bytes: Buffer) => {
    const small = files.add(Buffer.from("thumb"), "jpg");
    const big = files.add(bytes, "jpg");
    const huge = files.add(Buffer.from("too big to need"), "jpg");
    return [
      { file_id: small, file_unique_id: small, width: 90, height: 67, file_size: 5 },
      { file_id: big, file_unique_id: big, width: 1280, height: 960, file_size: bytes.length },
      { file_id: huge, file_unique_id: huge, width: 2560, height: 1920, file_size: 15 },
    ];
  };

  it("a captioned photo goes with its new idea to the vision model, which sees it; the bot says so", async () => {
    const { tg, files, ollama, send, ideas } = await setup({ config: VISION, models });
    const bytes = Buffer.from("jpeg bytes of a whiteboard sketch");
    await send({ photo: photoOf(files, bytes), caption: "Turn this whiteboard sketch into a garden plan" });
    const ack = await tg.waitFor(OWNER_ID, isAck, 5000, "ack");
    expect(ack.text).toContain("ollama · llava:latest");
    const note = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("🖼"), 5000, "photo note");
    expect(note.text).toBe("🖼 The photo goes with your idea to ollama · llava:latest.");
    expect(ideas()).toEqual(["Turn this whiteboard sketch into a garden plan"]);
    await expect
      .poll(() => ollama.requests.find((r) => r.model === "llava:latest")?.body.messages, { timeout: 5000 })
      .toContainEqual(expect.objectContaining({ role: "user", images: [bytes.toString("base64")] }));
    // The 1,280 px size was sent: not the thumbnail, not the full 2,560 px original.
    expect(files.getFileCalls).toHaveLength(1);
    expect(files.downloads).toHaveLength(1);
  });

  it("a captioned photo that answers the open question: the answer is recorded, and the photo was not read", async () => {
    const { tg, files, h, client, send, ollama } = await setup({ config: VISION, models });
    await client.sendMessage(client.makeMessage("Write a weekly newsletter about local food"));
    await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("❓ 1."), 5000, "question 1");
    await send({ photo: photoOf(files, Buffer.from("jpeg")), caption: "Mostly neighbours in my street" });
    const note = await tg.waitFor(OWNER_ID, (m) => m.text.startsWith("🖼"), 5000, "photo note");
    expect(note.text).toBe("🖼 The photo itself was not read — only your caption went in.");
    const answers = h.hermes.database.sqlite
      .prepare(
        "SELECT user_response FROM conversations WHERE user_response IS NOT NULL AND user_response NOT LIKE '(%'",
      )
      .pluck()
      .all();
    expect(answers).toEqual(["Mostly neighbours in my street"]);
    expect(ollama.requests.some((r) => JSON.stringify(r.body).includes('"images"'))).toBe(false);
  });
});
