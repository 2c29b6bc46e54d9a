import { Hono } from "hono";

export interface HealthSources {
  databaseUsable: () => boolean;
  bot: () => "running" | "off" | "stopped";
  backends: () => {
    name: string;
    kind: string;
    health: string;
    location: string;
    lastError?: string | undefined;
  }[];
  queue: () => Record<string, number>;
  startedAt: number;
  now: () => number;
}

/**
 * The admin HTTP server. `GET /health` needs no token: liveness and readiness for pm2 and monitors.
 * 503 only when the database is unusable — a dead backend is degraded service, not a dead Hermes.
 */
export function createHttpApp(sources: HealthSources): Hono {
  const app = new Hono();
  app.get("/health", (c) => {
    const dbOk = sources.databaseUsable();
    const backends = sources.backends();
    const anyHealthy = backends.some((b) => b.health === "healthy");
    const status = !dbOk ? "unhealthy" : anyHealthy ? "healthy" : "degraded";
    return c.json(
      {
        status,
        uptime_s: Math.round((sources.now() - sources.startedAt) / 1000),
        database: dbOk ? "ok" : "unusable",
        bot: sources.bot(),
        backends: backends.map((b) => ({
          name: b.name,
          kind: b.kind,
          health: b.health,
          location: b.location,
          ...(b.lastError && b.health !== "healthy" ? { last_error: b.lastError } : {}),
        })),
        queue: dbOk ? sources.queue() : undefined,
      },
      dbOk ? 200 : 503,
    );
  });
  app.notFound((c) =>
    c.json({ status: "error", error: { code: "NOT_FOUND", message: "No such endpoint." } }, 404),
  );
  return app;
}
