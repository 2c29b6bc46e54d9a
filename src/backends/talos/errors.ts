import type { ErrorBody, ErrorBodySchema, JobError, StatusResponse } from "../../../agent/protocol.ts";
import { HermesError, type HermesErrorOptions } from "../../errors.ts";
import { parseRetryAfter, safeHost, scrub } from "../http/errors.ts";

const TOKEN_ACTION =
  "check TALOS_TOKEN: Hermes and the Talos machine must use the same value (restart Talos after changing it)";

/** HermesErrors that mean "nothing reached the agent": a running job may ride these out. */
const unreachable = new WeakSet<HermesError>();

/** True when `err` means nothing reached the agent (it may be restarting). */
export function isUnreachable(err: unknown): err is HermesError {
  return err instanceof HermesError && unreachable.has(err);
}

export function stripQuery(path: string): string {
  const i = path.indexOf("?");
  return i === -1 ? path : path.slice(0, i);
}

export function describe(err: unknown): string {
  if (err instanceof Error)
    return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}

/**
 * Turns what the Talos agent said (HTTP status, error body, a failed job, no answer at all) into the
 * HermesError Hermes' queue acts on. Every message names the backend and its host, never the token.
 */
export class TalosErrors {
  readonly #name: string;
  readonly #url: string;
  readonly #token: string;

  constructor(name: string, url: string, token: string) {
    this.#name = name;
    this.#url = url;
    this.#token = token;
  }

  where(): string {
    return `${this.#name} at ${safeHost(this.#url)}`;
  }

  /** Every message names the backend and its host, and never contains the token. */
  error(code: HermesError["code"], message: string, opts: HermesErrorOptions = {}): HermesError {
    const secrets = [this.#token];
    return new HermesError(code, scrub(`${this.where()} ${message}`, secrets), {
      ...opts,
      details: opts.details === undefined ? undefined : scrub(opts.details, secrets),
    });
  }

  unreachable(reason: string, cause: unknown): HermesError {
    const error = this.error("TALOS_UNAVAILABLE", reason, {
      retryable: true,
      cause,
      userAction: `check that Talos is running (pm2 or launchd) and that ${safeHost(this.#url)} is reachable over Tailscale`,
    });
    unreachable.add(error);
    return error;
  }

  malformed(reason: string, cause: unknown): HermesError {
    return this.error("BACKEND_ERROR", `sent a broken answer: ${reason}`, { retryable: true, cause });
  }

  /** `errorBody`: the protocol's schema, passed in because the protocol loads lazily (./wire.ts). */
  http(res: Response, text: string, what: string, errorBody: typeof ErrorBodySchema): HermesError {
    let body: ErrorBody["error"] | undefined;
    try {
      const parsed = errorBody.safeParse(JSON.parse(text));
      if (parsed.success) body = parsed.data.error;
    } catch {
      // not our error body (a proxy in between?)
    }
    const said = body
      ? `${body.code}: ${body.message}${body.field ? ` (field ${body.field})` : ""}`
      : `HTTP ${res.status}`;
    const details = `HTTP ${res.status} on ${what}: ${said}`;
    if (res.status === 401 || res.status === 403) {
      return this.error("BACKEND_ERROR", `refused our token (HTTP ${res.status})`, {
        retryable: false,
        details,
        userAction: TOKEN_ACTION,
      });
    }
    if (res.status === 503 || res.status === 502) {
      const retryAfter = parseRetryAfter(res.headers) ?? body?.retry_after;
      const why = body?.message ?? `HTTP ${res.status}`;
      const error = this.error("TALOS_UNAVAILABLE", `cannot take the job now (${why})`, {
        retryable: true,
        retryAfter: retryAfter === undefined ? undefined : Math.ceil(retryAfter),
        details,
      });
      // A stopping agent is about to be unreachable; a job already accepted waits for it like one.
      if (body?.code === "SHUTDOWN") unreachable.add(error);
      return error;
    }
    if (res.status >= 500) {
      return this.error("BACKEND_ERROR", `failed with HTTP ${res.status} on ${what}`, {
        retryable: true,
        details,
      });
    }
    return this.error("BACKEND_ERROR", `rejected ${what} (${said})`, { retryable: false, details });
  }

  /** A job that ended on the agent without a result → the error Hermes' queue acts on. */
  jobFailure(s: StatusResponse, model: string): HermesError {
    const e: JobError = s.error ?? { code: "UNKNOWN", message: `job ended as ${s.status}` };
    const what = `job ${s.job_id}: ${e.message}`;
    if (s.status === "timeout" || e.code === "TIMEOUT") {
      return this.error("TIMEOUT", `timed out ${what}`, { retryable: true, details: e.code });
    }
    switch (e.code) {
      case "MODEL_NOT_FOUND":
        return this.error("BACKEND_ERROR", `does not have the model "${model}" (${e.message})`, {
          retryable: false,
          details: e.code,
          userAction: `run \`ollama pull ${model}\` on the Talos machine, or pick an installed model`,
        });
      case "OLLAMA_UNAVAILABLE":
        return this.error("TALOS_UNAVAILABLE", `cannot reach its Ollama (${e.message})`, {
          retryable: true,
          details: e.code,
          userAction: "start Ollama on the Talos machine (`ollama serve` or the Ollama app)",
        });
      case "OLLAMA_BUSY":
        return this.error("BACKEND_ERROR", `has a busy Ollama (${what})`, {
          retryable: true,
          details: e.code,
          ...(e.retry_after === undefined ? {} : { retryAfter: Math.ceil(e.retry_after) }),
        });
      case "SHUTDOWN":
        return this.error("TALOS_UNAVAILABLE", `is shutting down (${what})`, {
          retryable: true,
          details: e.code,
        });
      default:
        return this.error("BACKEND_ERROR", `failed ${what}`, { retryable: true, details: e.code });
    }
  }
}
