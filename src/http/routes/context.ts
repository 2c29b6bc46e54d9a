import { HermesError } from "../../errors.ts";
import type { ThreadRecord } from "../../store/threads/repo.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiContext, Envelopes } from "../envelope.ts";
import { threadRef } from "../schemas.ts";

/** What every route module receives. */
export interface RouteContext {
  deps: ApiDeps;
  envelopes: Envelopes;
  /** hermes.api.max_body_kb in bytes. */
  bodyLimit: () => number;
}

export async function resolveThread(
  rc: RouteContext,
  raw: string,
  field = "thread_id",
): Promise<ThreadRecord> {
  const ref = threadRef(raw, field);
  const thread = await rc.deps.threads.byRef(ref);
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
  return thread.user_id ?? `api:${c.get("client")}`;
}

export const statusPath = (uuid: string) => `/api/threads/${uuid}/status`;
export const resultPath = (uuid: string, jobId: number) => `/api/threads/${uuid}/jobs/${jobId}/result`;
export const downloadPath = (uuid: string, jobId: number) => `/api/threads/${uuid}/jobs/${jobId}/result.md`;
