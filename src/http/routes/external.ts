import type { Hono } from "hono";
import type { ThreadRecord } from "../../engine/threads/service.ts";
import { HermesError } from "../../errors.ts";
import { type ApiContext, type ApiEnv, HttpStatusError } from "../envelope.ts";
import { parseJson, readRawBody, validate } from "../middleware/body.ts";
import { externalCallbackSchema, externalSubmitSchema, threadRef } from "../schemas.ts";
import {
  MAX_SIGNATURE_SKEW_MS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  timestampFresh,
  verifySignature,
} from "../signature.ts";
import { type RouteContext, statusPath } from "./context.ts";
import { submitted } from "./threads.ts";

/** Longest result text stored from one callback (a structured result is stored as pretty JSON). */
const MAX_RESULT_CHARS = 1_000_000;
const SIGNING_HELP = `Send ${TIMESTAMP_HEADER}: <unix seconds> and ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256(hermes.api.callback_secret, "<timestamp>.<raw body>")>.`;

function noSecret(): HttpStatusError {
  return new HttpStatusError(503, "UNAUTHORIZED", "Callbacks are off: no callback secret is configured.", {
    userAction: "Set hermes.api.callback_secret (16+ characters) and share it with the external service.",
  });
}

/** Signature, freshness and first use of a callback; throws 401 otherwise. */
function authenticateCallback(rc: RouteContext, c: ApiContext, raw: string): void {
  const secret = rc.deps.callbackSecret();
  if (!secret) throw noSecret();
  const timestamp = c.req.header(TIMESTAMP_HEADER);
  const signature = c.req.header(SIGNATURE_HEADER);
  const unauthorized = (message: string) =>
    new HermesError("UNAUTHORIZED", message, { details: SIGNATURE_HEADER, userAction: SIGNING_HELP });
  if (!verifySignature(raw, signature, secret, timestamp))
    throw unauthorized(`Missing or invalid ${SIGNATURE_HEADER} / ${TIMESTAMP_HEADER}.`);
  const now = rc.deps.now();
  if (!timestampFresh(timestamp as string, now))
    throw unauthorized(`${TIMESTAMP_HEADER} is more than ${MAX_SIGNATURE_SKEW_MS / 60_000} minutes off.`);
  // Kept until the timestamp is stale anyway; a second use of the same signature is a replay.
  const expiresAt = Number(timestamp) * 1000 + MAX_SIGNATURE_SKEW_MS + 1000;
  if (!rc.deps.callbackReplay.claim(signature as string, expiresAt, now))
    throw unauthorized("This signed callback was already received (replay).");
}

/**
 * Only a thread created by /api/external/submit, not archived, with no external result yet:
 * anything else (an owner's Telegram thread, a finished one) is not the caller's to write into.
 */
async function waitingExternalThread(rc: RouteContext, ref: string): Promise<ThreadRecord> {
  const thread = await rc.deps.threads.find({ userId: "api:external-callback", role: "admin" }, ref);
  if (thread?.source !== "external" || !thread.callback_url)
    throw new HermesError("NOT_FOUND", `There is no external thread ${ref}.`, {
      details: "thread_id",
      userAction: "Use the thread_id that /api/external/submit returned.",
    });
  const jobs = await rc.deps.threads.jobs(thread);
  if (thread.status === "archived" || jobs.some((j) => j.job_subtype === "external_result"))
    throw new HttpStatusError(409, "FORBIDDEN", `Thread ${ref} is not waiting for a result.`, {
      details: "thread_id",
      userAction: "Send one result per submitted thread.",
    });
  return thread;
}

/** External services: submit with a callback URL; send results back into a thread. */
export function registerExternalRoutes(api: Hono<ApiEnv>, rc: RouteContext): void {
  externalSubmitRoute(api, rc);
  // Threads whose result is being (or was) stored by this process: two results racing past the
  // "still waiting" check cannot both land.
  externalCallbackRoute(api, rc, new Set<number>());
}

function externalSubmitRoute(api: Hono<ApiEnv>, rc: RouteContext): void {
  const { deps, envelopes } = rc;
  api.post("/api/external/submit", async (c) => {
    const raw = await readRawBody(c, rc.bodyLimit());
    const body = validate(externalSubmitSchema(), parseJson(raw, false));
    if (!deps.callbackSecret()) throw noSecret();
    await deps.callbackTargets.check(body.callback_url);
    const actor = { userId: `external:${body.source_app}`, role: "admin" } as const;
    const result = await deps.threads.submit(actor, {
      text: body.idea,
      source: "external",
      priority: body.priority,
      callbackUrl: body.callback_url,
    });
    const data = await submitted(rc, result);
    const origin = new URL(c.req.url).origin;
    return envelopes.ok(
      c,
      {
        ...data,
        source_app: body.source_app,
        status_url: `${origin}${statusPath(result.thread.uuid)}`,
        callback: {
          events: ["job.completed", "job.failed"],
          signature_header: `${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "<${TIMESTAMP_HEADER}>.<raw body>">`,
          timestamp_header: `${TIMESTAMP_HEADER}: <unix seconds>`,
        },
      },
      202,
    );
  });
}

function externalCallbackRoute(api: Hono<ApiEnv>, rc: RouteContext, inFlight: Set<number>): void {
  const { deps, envelopes } = rc;
  api.post("/api/external/callback/:thread_id", async (c) => {
    const ref = threadRef(c.req.param("thread_id"));
    const raw = await readRawBody(c, rc.bodyLimit());
    authenticateCallback(rc, c, raw);
    const body = validate(externalCallbackSchema(), parseJson(raw, false));
    const text = typeof body.results === "string" ? body.results : JSON.stringify(body.results, null, 2);
    if (text.trim() === "")
      throw new HermesError("INVALID_INPUT", "Invalid results: must not be empty.", { details: "results" });
    if (text.length > MAX_RESULT_CHARS)
      throw new HermesError("INVALID_INPUT", `Invalid results: more than ${MAX_RESULT_CHARS} characters.`, {
        details: "results",
      });
    const thread = await waitingExternalThread(rc, ref);
    if (inFlight.has(thread.id))
      throw new HttpStatusError(409, "FORBIDDEN", `Thread ${ref} is not waiting for a result.`, {
        details: "thread_id",
      });
    inFlight.add(thread.id);
    try {
      const jobId = await deps.threads.storeExternalResult(thread, {
        text,
        status: body.status,
        source: thread.user_id ?? "external:unknown",
        metadata: body.metadata,
      });
      deps.log.info({ threadId: thread.id, jobId, status: body.status }, "external result received");
      return envelopes.ok(c, {
        callback_received: true,
        processing_status: body.status === "completed" ? "stored" : "recorded_failure",
        thread_id: thread.uuid,
        job_id: jobId,
        status_url: statusPath(thread.uuid),
      });
    } catch (error) {
      inFlight.delete(thread.id);
      throw error;
    }
  });
}
