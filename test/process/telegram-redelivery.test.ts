import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeOllama } from "../fakes/fake-ollama.ts";
import { RedeliveringTelegram } from "../fakes/redelivering-telegram.ts";
import { TelegramEmulator } from "../fakes/telegram-emulator.ts";
import { spawnHermes, waitUntil } from "../helpers/child-hermes.ts";
import { OWNER_ID } from "../helpers/hermes-harness.ts";

const stops: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await Promise.resolve(s()).catch(() => {});
});

const STEP_MS = 20_000; // one child start up to a given point, on a busy machine
const GRACE_MS = 10_000;

/** Ideas stored, by their text, read beside the child (WAL). */
function ideaCounts(dbPath: string): Record<string, number> {
  const db = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare("SELECT original_request AS text, count(*) AS n FROM idea_threads GROUP BY original_request")
      .all() as { text: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.text, r.n]));
  } finally {
    db.close();
  }
}

/**
 * Issue 16 item 9, with Telegram's own rule (an update is kept until a later getUpdates confirms
 * it) and a real process killed with SIGKILL. Before: an update handled just before the crash was
 * handled again after the restart — a second idea from one message.
 */
describe("Telegram updates across a crash", () => {
  it(
    "an update handled before kill -9 makes one idea; updates fetched but not handled are handled after restart",
    async () => {
      const tg = await TelegramEmulator.start();
      stops.push(() => tg.stop());
      const api = await RedeliveringTelegram.start(tg);
      stops.push(() => api.stop());
      const ollama = await FakeOllama.start();
      stops.push(() => ollama.stop());
      ollama.setResponder(() => ({ text: "a draft" }));
      const dir = mkdtempSync(join(tmpdir(), "hermes-updates-"));
      stops.push(() => rmSync(dir, { recursive: true, force: true }));
      const db = join(dir, "hermes.db");
      const env = {
        HERMES_DB_PATH: db,
        OLLAMA_HOST: ollama.url,
        TELEGRAM_BOT_TOKEN: tg.token,
        TELEGRAM_API_ROOT: api.apiRoot,
        HERMES_OWNER_IDS: String(OWNER_ID),
      };
      // Three updates wait before the first start: an idea, /help, a new idea. The reply to
      // /help hangs, so the process is inside the second update when it is killed: the first is
      // handled (not yet confirmed: that happens with the next getUpdates), the third not begun.
      const client = tg.client(OWNER_ID);
      await client.sendCommand(client.makeCommand("/new Plan a garden alpha"));
      await client.sendCommand(client.makeCommand("/help"));
      await client.sendCommand(client.makeCommand("/new Plan a garden gamma"));
      const isHelp = (text: unknown) => String(text).startsWith("Send any idea in plain words");
      api.hold((method, body) => method === "sendMessage" && isHelp(body.text));

      const first = spawnHermes(env);
      stops.push(() => first.child.kill("SIGKILL"));
      await waitUntil(() => api.heldCount() === 1, STEP_MS, "the first process inside /help");
      expect(ideaCounts(db)).toEqual({ "Plan a garden alpha": 1 });
      first.child.kill("SIGKILL");
      await first.exited;
      api.release();

      const second = spawnHermes(env);
      stops.push(() => second.child.kill("SIGKILL"));
      await tg.waitFor(OWNER_ID, (m) => isHelp(m.text), STEP_MS, "the /help reply after the restart");
      await tg.waitFor(
        OWNER_ID,
        (m) => m.text.includes("Got it") && m.text.includes("gamma"),
        STEP_MS,
        "the third update's acknowledgement",
      );
      // Telegram did deliver the handled idea again; it made no second idea.
      const first1 = api.handedOut[0] ?? -1;
      expect(api.handedOut.filter((id) => id === first1).length).toBeGreaterThanOrEqual(2);
      expect(ideaCounts(db)).toEqual({ "Plan a garden alpha": 1, "Plan a garden gamma": 1 });
      const acks = tg.botMessages(OWNER_ID).filter((m) => m.text.includes("Got it"));
      expect(acks.filter((m) => m.text.includes("alpha"))).toHaveLength(1);
      second.child.kill("SIGTERM");
      expect(await second.exited, second.output()).toBe(0);
    },
    3 * STEP_MS + GRACE_MS,
  );
});
