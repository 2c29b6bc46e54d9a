import type { ThreadRecord } from "../../store/threads/repo.ts";

/**
 * Who acts on threads, as every transport passes it to the ThreadService.
 * - admin: the HTTP API's token holder — reaches every thread and acts as its owner;
 * - owner: a Telegram owner or the terminal chat's user — their own threads only;
 * - guest: a Telegram guest in limited mode — their own threads, local backends, a daily quota.
 */
export interface Actor {
  /** Telegram user id, "cli", "api:<client>" or "external:<source app>". */
  userId: string;
  role: "admin" | "owner" | "guest";
  /** Whose idea-rate bucket this actor's ideas count against, when not userId (the API: its credential). */
  rateKey?: string;
}

/** The user a thread's answers, drafts and learning belong to when this actor acts on it. */
export function actingUserId(actor: Actor, thread: ThreadRecord): string {
  return actor.role === "admin" ? (thread.user_id ?? actor.userId) : actor.userId;
}

/** Whether the actor may see and change the thread (no hint that it exists otherwise). */
export function mayAct(actor: Actor, thread: ThreadRecord): boolean {
  return actor.role === "admin" || thread.user_id === actor.userId;
}
