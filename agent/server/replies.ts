import type { Context } from "hono";
import type { ZodError, ZodType } from "zod";
import { type ErrorBody, JobIdSchema, type TalosErrorCode } from "../protocol.ts";

/**
 * How Talos' routes answer a failure and read their input: the one error body
 * `{error:{code, message, field?, retry_after?}}` (with Retry-After when there is one), a JSON body
 * checked against a zod schema, and the :job_id parameter. A bad input names the field at fault.
 */
export type FailStatus = 400 | 401 | 404 | 409 | 413 | 500 | 502 | 503;

/** What a helper gives back when the route must answer with an error at once. */
export type Rejected = { ok: false; res: Response };

function errorBody(
  code: TalosErrorCode,
  message: string,
  extra: { field?: string; retry_after?: number } = {},
): ErrorBody {
  return { error: { code, message, ...extra } };
}

export function fail(
  c: Context,
  status: FailStatus,
  code: TalosErrorCode,
  message: string,
  extra: { field?: string; retry_after?: number } = {},
) {
  if (extra.retry_after !== undefined) c.header("Retry-After", String(Math.ceil(extra.retry_after)));
  return c.json(errorBody(code, message, extra), status);
}

/** The first zod issue as a dotted field path ("options.temperature", "messages.0.role"). */
function fieldOf(error: ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { field: "body", message: "invalid body" };
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) {
    const field = [...path, issue.keys[0]].join(".");
    return { field, message: `unknown field "${field}"` };
  }
  const field = path.length > 0 ? path.join(".") : "body";
  return { field, message: `${field}: ${issue.message}` };
}

export async function readJson<T>(
  c: Context,
  schema: ZodType<T>,
): Promise<{ ok: true; value: T } | Rejected> {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = JSON.parse(text);
  } catch {
    return {
      ok: false,
      res: fail(c, 400, "INVALID_INPUT", "the body is not valid JSON", { field: "body" }),
    };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { field, message } = fieldOf(parsed.error);
    return { ok: false, res: fail(c, 400, "INVALID_INPUT", message, { field }) };
  }
  return { ok: true, value: parsed.data };
}

export function jobIdParam(c: Context): { ok: true; id: string } | Rejected {
  const parsed = JobIdSchema.safeParse(c.req.param("job_id"));
  if (parsed.success) return { ok: true, id: parsed.data };
  return {
    ok: false,
    res: fail(c, 400, "INVALID_INPUT", `job_id: ${parsed.error.issues[0]?.message ?? "invalid"}`, {
      field: "job_id",
    }),
  };
}
