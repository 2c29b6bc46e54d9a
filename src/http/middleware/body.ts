import type { z } from "zod";
import { HermesError } from "../../errors.ts";
import { type ApiContext, HttpStatusError } from "../envelope.ts";

/**
 * Request bodies: read with a size cap (413 past it, whatever Content-Length claims), parsed as
 * JSON (400 when malformed) and validated with zod (400 naming the field).
 */
export async function readRawBody(c: ApiContext, limitBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpStatusError(413, "INVALID_INPUT", `The request body is larger than ${limitBytes} bytes.`, {
      details: "body",
      userAction: "Send less: shorten the idea or split it.",
    });
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge();
  if (Number.isFinite(declared)) {
    // Node's HTTP parser delivers exactly Content-Length bytes, so the whole body is read at once
    // (checked again: a Request built in-process may carry any length). This is @hono/node-server's
    // direct read; the streaming read below makes it build a web stream over the socket first
    // (~1% of an idea's CPU in bench/per-idea.ts).
    const bytes = Buffer.from(await c.req.raw.arrayBuffer());
    if (bytes.byteLength > limitBytes) throw tooLarge();
    return bytes.toString("utf8");
  }
  // Chunked (no Content-Length): read with the cap applied as it arrives.
  const stream = c.req.raw.body;
  if (!stream) return "";
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Deeper JSON than this is refused: nothing Hermes accepts nests so far, and recursion over it
 * (JSON.stringify, zod) overflows the stack at ~10,000 levels — a 500 from one small body. */
export const MAX_JSON_DEPTH = 64;

/** Depth of a parsed JSON value, walked without recursion; stops counting past `limit`. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

export function parseJson(raw: string, optional: boolean): unknown {
  if (raw.trim() === "") {
    if (optional) return {};
    throw new HermesError("INVALID_INPUT", "The request needs a JSON body.", {
      details: "body",
      userAction: "Send a JSON object with Content-Type: application/json.",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(raw) as unknown;
  } catch {
    throw new HermesError("INVALID_INPUT", "The request body is not valid JSON.", {
      details: "body",
      userAction: "Check the JSON syntax (quotes, commas, brackets).",
    });
  }
  if (depthExceeds(value, MAX_JSON_DEPTH))
    throw new HermesError("INVALID_INPUT", `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`, {
      details: "body",
      userAction: `Flatten the data: at most ${MAX_JSON_DEPTH} levels of arrays and objects.`,
    });
  return value;
}

/** "answers.0.question_id" style path of a zod issue; "body" for the root. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "body" : path.map((p) => String(p)).join(".");
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, where = "body"): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${fieldOf(i.path)}: ${i.message}`);
  const first = result.error.issues[0];
  const field = first ? fieldOf(first.path) : where;
  throw new HermesError("INVALID_INPUT", `Invalid ${field}: ${first?.message ?? "invalid value"}.`, {
    details: issues.join("; "),
    userAction: `Fix ${field} and send the request again.`,
  });
}

export async function jsonBody<S extends z.ZodType>(
  c: ApiContext,
  schema: S,
  limitBytes: number,
  options: { optional?: boolean } = {},
): Promise<{ value: z.infer<S>; raw: string }> {
  const raw = await readRawBody(c, limitBytes);
  return { value: validate(schema, parseJson(raw, options.optional ?? false)), raw };
}
