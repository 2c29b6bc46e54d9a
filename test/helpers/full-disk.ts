import type { SqliteHandle } from "../../src/store/database.ts";

const isFull = (e: unknown) => (e as { code?: unknown }).code === "SQLITE_FULL";

/** How to fill one table: insert a small row (returning its id), and grow that row's text column. */
interface Filler {
  insert(): number;
  grow(id: number, text: string): void;
}

/**
 * A full disk, for real: `PRAGMA max_page_count` stops the database at the pages it has, and the
 * filler's table page is packed to its last byte. From then on every write that needs room in that
 * page fails with SQLITE_FULL, as it does when the disk has no space left. `free()` gives the
 * space back.
 */
function fillPage(sqlite: SqliteHandle, filler: Filler): { free(): void } {
  sqlite.pragma(`max_page_count = ${sqlite.pragma("page_count", { simple: true })}`);
  let last: number | undefined;
  for (;;) {
    try {
      last = filler.insert();
    } catch (error) {
      if (!isFull(error)) throw error;
      break;
    }
  }
  if (last === undefined) throw new Error("the page had no room for a filler row");
  // The rows leave a gap smaller than a row: grow the last one (bisecting) until nothing is left.
  let fits = 1;
  let fails = 4096;
  while (fits + 1 < fails) {
    const mid = (fits + fails) >> 1;
    try {
      filler.grow(last, "f".repeat(mid));
      fits = mid;
    } catch (error) {
      if (!isFull(error)) throw error;
      fails = mid;
    }
  }
  filler.grow(last, "f".repeat(fits));
  return { free: () => sqlite.pragma("max_page_count = 1073741823") };
}

/**
 * Fills the jobs table's page with finished filler jobs of `threadId`: a claim (it adds the lease
 * to the row), a completion and a new job fail with SQLITE_FULL.
 */
export function fillJobsPage(sqlite: SqliteHandle, threadId: number): { free(): void } {
  const insert = sqlite
    .prepare(
      "INSERT INTO jobs (thread_id, job_type, status, priority) VALUES (?, 'f', 'completed', 1) RETURNING id",
    )
    .pluck();
  const grow = sqlite.prepare("UPDATE jobs SET job_type = ? WHERE id = ?");
  return fillPage(sqlite, {
    insert: () => insert.get(threadId) as number,
    grow: (id, text) => grow.run(text, id),
  });
}

/** Fills the system_health table's page: recording a health row fails with SQLITE_FULL. */
export function fillHealthPage(sqlite: SqliteHandle): { free(): void } {
  const insert = sqlite
    .prepare("INSERT INTO system_health (component, health_status) VALUES ('f', 'f') RETURNING id")
    .pluck();
  const grow = sqlite.prepare("UPDATE system_health SET component = ? WHERE id = ?");
  return fillPage(sqlite, { insert: () => insert.get() as number, grow: (id, text) => grow.run(text, id) });
}
