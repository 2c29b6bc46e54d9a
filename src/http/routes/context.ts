import { type Actor, actingUserId } from "../../engine/threads/actor.ts";
import type { ThreadRecord } from "../../engine/threads/service.ts";
import { HermesError } from "../../errors.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiContext, Envelopes } from "../envelope.ts";
import { ADMIN_PRINCIPAL } from "../middleware/guard.ts";
import { threadRef } from "../schemas.ts";

/** What every route module receives. */
export interface RouteContext {
  deps: ApiDeps;
  envelopes: Envelopes;
  /** hermes.api.max_body_kb in bytes. */
  bodyLimit: () => number;
}

/**
 * The API's caller: the admin token holder, who reaches every thread and acts as its owner. The
 * X-Hermes-Client name labels its threads and audit rows; limits key on the credential, since the
 * client picks the name freely.
 */
export function apiActor(c: ApiContext): Actor {
  return { userId: `api:${c.get("client")}`, role: "admin", rateKey: `api:${ADMIN_PRINCIPAL}` };
}

export async function resolveThread(
  rc: RouteContext,
  c: ApiContext,
  raw: string,
  field = "thread_id",
): Promise<ThreadRecord> {
  const ref = threadRef(raw, field);
  const thread = await rc.deps.threads.find(apiActor(c), ref);
  if (!thread)
    throw new HermesError("NOT_FOUND", `There is no thread ${ref}.`, {
      details: field,
      userAction:
        "Check the thread_id (GET /api/threads/<id>/status works with the full uuid or its first 8 characters).",
    });
  return thread;
}

/** The user a thread belongs to (the API acts for the owner), else the API client. */
export function actingUser(c: ApiContext, thread: ThreadRecord): string {
  return actingUserId(apiActor(c), thread);
}

export const statusPath = (uuid: string) => `/api/threads/${uuid}/status`;
export const resultPath = (uuid: string, jobId: number) => `/api/threads/${uuid}/jobs/${jobId}/result`;
export const downloadPath = (uuid: string, jobId: number) => `/api/threads/${uuid}/jobs/${jobId}/result.md`;
