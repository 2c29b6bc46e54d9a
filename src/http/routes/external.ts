import type { Hono } from "hono";
import { HermesError } from "../../errors.ts";
import { type ApiEnv, HttpStatusError } from "../envelope.ts";
import { parseJson, readRawBody, validate } from "../middleware/body.ts";
import { externalCallbackSchema, externalSubmitSchema, threadRef } from "../schemas.ts";
import { SIGNATURE_HEADER, verifySignature } from "../signature.ts";
import { type RouteContext, resolveThread, statusPath } from "./context.ts";
import { submitted } from "./threads.ts";

/** External services: submit with a callback URL; send results back into a thread. */
export function registerExternalRoutes(api: Hono<ApiEnv>, rc: RouteContext): void {
  const { deps, envelopes } = rc;

  api.post("/api/external/submit", async (c) => {
    const raw = await readRawBody(c, rc.bodyLimit());
    const body = validate(externalSubmitSchema, parseJson(raw, false));
    if (!deps.callbackSecret())
      throw new HttpStatusError(
        503,
        "UNAUTHORIZED",
        "Callbacks cannot be signed: no signing key is configured.",
        {
          userAction: "Set HERMES_ADMIN_TOKEN or hermes.api.callback_secret.",
        },
      );
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
          signature_header: `${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the raw body>`,
        },
      },
      202,
    );
  });

  api.post("/api/external/callback/:thread_id", async (c) => {
    const ref = threadRef(c.req.param("thread_id"));
    const raw = await readRawBody(c, rc.bodyLimit());
    const secret = deps.callbackSecret();
    if (!secret || !verifySignature(raw, c.req.header(SIGNATURE_HEADER), secret))
      throw new HermesError("UNAUTHORIZED", `Missing or invalid ${SIGNATURE_HEADER}.`, {
        details: SIGNATURE_HEADER,
        userAction: `Sign the exact raw body: ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256(body, shared secret)>.`,
      });
    const body = validate(externalCallbackSchema, parseJson(raw, false));
    const thread = await resolveThread(rc, c, ref);
    const text = typeof body.results === "string" ? body.results : JSON.stringify(body.results, null, 2);
    if (text.trim() === "")
      throw new HermesError("INVALID_INPUT", "Invalid results: must not be empty.", { details: "results" });
    const source = thread.user_id?.startsWith("external:") ? thread.user_id : `external:${c.get("client")}`;
    const jobId = await deps.threads.storeExternalResult(thread, {
      text,
      status: body.status,
      source,
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
  });
}
