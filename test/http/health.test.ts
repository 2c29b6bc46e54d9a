import { describe, expect, it } from "vitest";
import { createHttpApp } from "../../src/http/app.ts";

const TOKEN = "health-admin-token-0123456789";

const base = {
  bot: () => "off" as const,
  queue: () => ({ queued: 2 }),
  startedAt: 0,
  now: () => 5000,
};

describe("GET /health", () => {
  it("answers 200 with database, bot and each backend to the admin token holder", async () => {
    const app = createHttpApp({
      ...base,
      adminToken: TOKEN,
      databaseUsable: () => true,
      backends: () => [
        { name: "ollama", kind: "ollama", health: "healthy", location: "http://127.0.0.1:11434" },
        {
          name: "talos",
          kind: "talos",
          health: "unhealthy",
          location: "http://100.1.2.3:8001",
          lastError: "refused",
        },
      ],
    });
    const res = await app.request("/health", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: "ok",
      database: "ok",
      bot: "off",
      uptime_s: 5,
      queue: { queued: 2 },
    });
    expect(body.backends).toEqual([
      { name: "ollama", kind: "ollama", health: "healthy", location: "http://127.0.0.1:11434" },
      {
        name: "talos",
        kind: "talos",
        health: "unhealthy",
        location: "http://100.1.2.3:8001",
        last_error: "refused",
      },
    ]);
  });

  it("is degraded, still 200, when no backend is reachable", async () => {
    const app = createHttpApp({
      ...base,
      databaseUsable: () => true,
      backends: () => [{ name: "ollama", kind: "ollama", health: "unhealthy", location: "x" }],
    });
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("degraded");
  });

  it("answers 503 when the database is unusable", async () => {
    const app = createHttpApp({
      ...base,
      databaseUsable: () => false,
      queue: () => {
        throw new Error("database closed");
      },
      backends: () => [],
    });
    const res = await app.request("/health");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "down" });
  });

  it("tells an unauthenticated caller the status only: no names, URLs, errors or counts", async () => {
    const app = createHttpApp({
      ...base,
      adminToken: TOKEN,
      databaseUsable: () => true,
      backends: () => [
        {
          name: "talos",
          kind: "talos",
          health: "unhealthy",
          location: "http://100.1.2.3:8001",
          lastError: "refused at http://100.1.2.3:8001",
        },
      ],
    });
    for (const headers of [{}, { authorization: "Bearer wrong-token-wrong-token" }]) {
      const res = await app.request("/health", { headers });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "degraded" });
    }
  });
});
