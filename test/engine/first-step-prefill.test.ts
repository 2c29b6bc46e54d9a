import { afterEach, expect, it } from "vitest";
import { parseState } from "../../src/engine/conversation/records.ts";
import type { Actor } from "../../src/engine/threads/service.ts";
import { testHermes } from "../helpers/test-hermes.ts";

const OWNER: Actor = { userId: "u1", role: "owner" };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

// The question step writes the state with the question; when that step fails after earlier
// ideas' habits were pre-filled, the state that shows the pre-fill must still be saved, or
// later drafts carry an assumption the user can neither see nor change.
it("a failed first step after a pre-fill leaves the pre-fill visible and changeable", async () => {
  const b = await testHermes({
    config: { "hermes.learning.random_seed": "1", "hermes.classification.enable_llm": "false" },
    dispatch: async () => ({
      text: "a draft",
      summary: "a draft",
      backend: "ollama",
      model: "llama3.1:8b",
      costCents: 0,
      executionMs: 1,
    }),
  });
  closers.push(() => b.hermes.stop());
  const service = b.hermes.threadService;
  for (let i = 0; i < 5; i++) {
    const r = await service.submit(OWNER, {
      chatId: "c1",
      text: `Write a poem number ${i}`,
      source: "telegram",
    });
    for (let q = r.question; q; ) {
      const input =
        q.slot === "context"
          ? { kind: "text" as const, text: "for my book club" }
          : { kind: "skip" as const };
      q = (await service.answer(OWNER, r.thread.id, q.id, input)).next;
    }
  }
  const sqlite = b.hermes.database.sqlite;
  sqlite.exec(
    "CREATE TEMP TRIGGER fail_step BEFORE UPDATE ON question_templates BEGIN SELECT RAISE(ABORT, 'disk full'); END",
  );
  const r = await service.submit(OWNER, {
    chatId: "c1",
    text: "Write a poem about the sea",
    source: "telegram",
  });
  sqlite.exec("DROP TRIGGER fail_step");
  const row = sqlite.prepare("SELECT clarity_slots FROM idea_threads WHERE id = ?").get(r.thread.id) as {
    clarity_slots: string | null;
  };
  const state = parseState(row.clarity_slots);
  expect(state?.slots.context.source).toBe("pattern");
  await expect(service.correctAssumption(OWNER, r.thread.id, "context")).resolves.toBeDefined();
});
