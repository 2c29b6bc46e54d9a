import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import type { ExecuteRequest, StatusResponse } from "../../../agent/protocol.ts";
import { networkCode } from "../http/errors.ts";
import { describe, isUnreachable, stripQuery, type TalosErrors } from "./errors.ts";
import { type Protocol, protocol } from "./wire.ts";

export const POLL_BACKOFF = 1.5;
const CANCEL_TIMEOUT_MS = 5_000;

type Answer<T> = { status: number; data: T; headers: Headers };

/** What one status poll found. */
export type Poll = { kind: "status"; status: StatusResponse } | { kind: "lost"; why: string };

export interface TalosClientOptions {
  url: string;
  token: string;
  requestTimeoutMs: number;
  pollMs: number;
  maxPollMs: number;
  graceMs: number;
  errors: TalosErrors;
}

/** The HTTP calls to the Talos agent (agent/protocol.ts), each checked against the protocol. */
export class TalosClient {
  readonly #o: TalosClientOptions;

  constructor(options: TalosClientOptions) {
    this.#o = options;
  }

  /**
   * POST /agent/execute; returns when the job was accepted (performance.now()). `tolerateDown`: the
   * agent is known to be restarting, so connection failures are retried within the grace period.
   */
  async submit(body: ExecuteRequest, signal: AbortSignal, tolerateDown: boolean): Promise<number> {
    const since = performance.now();
    let wait = this.#o.pollMs;
    for (;;) {
      try {
        await this.request("POST", "/agent/execute", (p) => p.ExecuteResponseSchema, { signal, body });
        return performance.now();
      } catch (err) {
        const transient = isUnreachable(err);
        if (!tolerateDown || !transient || performance.now() - since > this.#o.graceMs) throw err;
        await sleep(wait, undefined, { signal });
        wait = Math.min(this.#o.maxPollMs, wait * POLL_BACKOFF);
      }
    }
  }

  async poll(jobId: string, textFrom: number, signal: AbortSignal): Promise<Poll> {
    const path = `/agent/status/${encodeURIComponent(jobId)}?text_from=${textFrom}`;
    const answer = await this.request("GET", path, (p) => p.StatusResponseSchema, { signal, allow404: true });
    if (answer.status === 404) return { kind: "lost", why: "Talos no longer knows it (restarted?)" };
    return { kind: "status", status: answer.data as StatusResponse };
  }

  cancelQuietly(jobId: string): void {
    this.request("POST", `/agent/cancel/${encodeURIComponent(jobId)}`, (p) => p.CancelResponseSchema, {
      timeoutMs: CANCEL_TIMEOUT_MS,
      allow404: true,
    }).catch(() => undefined); // best effort: the agent's own job timeout ends it otherwise
  }

  /**
   * One HTTP call with its own deadline. Connection-level failures are TALOS_UNAVAILABLE (marked
   * `unreachable`); HTTP errors are mapped from the agent's error body; a 2xx body must match
   * `schema` (picked from the protocol, which the first call loads: ./wire.ts). With `allow404` a
   * 404 returns `{status: 404, data: undefined}`.
   */
  async request<S extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    schema: (p: Protocol) => S,
    opts: { signal?: AbortSignal | undefined; body?: unknown; timeoutMs?: number; allow404?: boolean },
  ): Promise<Answer<z.infer<S>>> {
    const errors = this.#o.errors;
    const wire = await protocol();
    const deadline = AbortSignal.timeout(opts.timeoutMs ?? this.#o.requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#o.token}`,
      accept: "application/json",
    };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.#o.url}${path}`, {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw err; // the run's guard decides what that means
      if (deadline.aborted) {
        throw errors.unreachable(
          `did not answer ${method} ${stripQuery(path)} within ${opts.timeoutMs ?? this.#o.requestTimeoutMs} ms`,
          err,
        );
      }
      const code = networkCode(err);
      throw errors.unreachable(`cannot be reached (${code ?? describe(err)})`, err);
    }

    if (res.ok)
      return {
        status: res.status,
        data: this.#parse(schema(wire), text, `${method} ${stripQuery(path)}`),
        headers: res.headers,
      };

    if (res.status === 404 && opts.allow404) {
      return { status: 404, data: undefined as z.infer<S>, headers: res.headers };
    }
    throw errors.http(res, text, `${method} ${stripQuery(path)}`, wire.ErrorBodySchema);
  }

  /** A 2xx body checked against the protocol: invalid JSON or a wrong shape is a malformed answer. */
  #parse<S extends z.ZodType>(schema: S, text: string, what: string): z.infer<S> {
    const errors = this.#o.errors;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw errors.malformed(`${what} answered with invalid JSON`, err);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid body";
      throw errors.malformed(`${what} answered out of protocol (${where})`, parsed.error);
    }
    return parsed.data as z.infer<S>;
  }
}
