import type { z } from "zod";
import { HermesError } from "../errors.ts";

/**
 * JSON columns are parsed here, with a zod schema, and nowhere else. A value that is not JSON or
 * does not fit its schema is corrupt stored data: it throws UnreadableRowError (naming the table,
 * column and row, never the value) instead of quietly becoming `{}`, so the caller that read the row
 * logs it or fails that one job, and a bad row never passes for an empty one.
 */
export class UnreadableRowError extends HermesError {
  readonly table: string;
  readonly column: string;
  readonly rowId: number | string | undefined;

  // No `cause`: JSON.parse's and zod's messages may quote the stored text, which can be a user's.
  constructor(where: ColumnRef, reason: string) {
    const row = where.rowId === undefined ? "" : ` of row ${where.rowId}`;
    super("INTERNAL", `Stored ${where.table}.${where.column}${row} is unreadable: ${reason}`);
    this.name = "UnreadableRowError";
    this.table = where.table;
    this.column = where.column;
    this.rowId = where.rowId;
  }
}

export interface ColumnRef {
  table: string;
  column: string;
  rowId?: number | string | undefined;
}

/** Parses a non-null JSON column with `schema`; throws UnreadableRowError when it does not fit. */
export function parseJsonColumn<S extends z.ZodType>(schema: S, raw: string, where: ColumnRef): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UnreadableRowError(where, "not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    throw new UnreadableRowError(where, `unexpected shape${path}`);
  }
  return parsed.data;
}

/** As parseJsonColumn, for a nullable column: NULL (and an empty string) read as `undefined`. */
export function parseOptionalJsonColumn<S extends z.ZodType>(
  schema: S,
  raw: string | null,
  where: ColumnRef,
): z.output<S> | undefined {
  if (raw === null || raw === "") return undefined;
  return parseJsonColumn(schema, raw, where);
}
