import type { Clock, TimerHandle } from "../../clock.ts";
import type { Job, JobsRepo } from "../../store/jobs/repo.ts";
import type { StorageFault } from "../../store/storage-fault.ts";
import type { QueueEvents } from "../events.ts";
import type { RetrySettings } from "../retry-policy.ts";

/** The scheduler's contract with its dispatcher, its options, and its record of a running job. */
export interface DispatchContext {
  job: Job;
  signal: AbortSignal;
  progress(tokens: number, textSoFar: string): void;
}

export interface DispatchOutcome {
  text: string;
  summary: string;
  backend: string;
  model: string;
  costCents: number;
  executionMs: number;
  confidence?: number;
  /** Agreement of consensus samples, 0–1 (jobs.model_confidence). */
  modelConfidence?: number | undefined;
  fallbackUsed?: boolean;
}

/** Runs one claimed job; throws HermesError (with retryable set right) on failure. */
export type Dispatcher = (ctx: DispatchContext) => Promise<DispatchOutcome>;

export interface SchedulerOptions {
  repo: JobsRepo;
  events: QueueEvents;
  clock: Clock;
  dispatch: Dispatcher;
  /** This process's identity; leases carry it (see ownerId()). */
  owner: string;
  /** Whether the owner of a lease is certainly dead; default: same host and the pid is gone. */
  ownerIsDead?: (owner: string) => boolean;
  /** How many jobs may run at once right now (sum of the backends' free slots). */
  capacity: () => number;
  retrySettings: () => RetrySettings;
  leaseMs?: number;
  random?: () => number;
  /**
   * Group commit: claim ready jobs in batches and settle a turn's completions as one write of the
   * turn's group commit (store/group-commit.ts), and claim an idea's job in the transaction that
   * enqueues it. A completion is announced only after it committed. (Submits and asked questions
   * join the group commit either way.)
   */
  groupCommit?: boolean;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Where a full database is reported (→ /health degraded, the database_size alert). */
  storage?: StorageFault;
}

/** The options with their defaults filled in (only `log` and `storage` stay optional). */
export type ResolvedSchedulerOptions = Required<Omit<SchedulerOptions, "log" | "storage">> &
  Pick<SchedulerOptions, "log" | "storage">;

export interface Running {
  job: Job;
  controller: AbortController;
  renewTimer: TimerHandle | undefined;
  done: Promise<void>;
  /** Why we aborted it ourselves: a user's cancel, or shutdown (→ requeue). */
  abortReason?: "cancel" | "shutdown";
}
