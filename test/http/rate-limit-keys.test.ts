import { afterEach, describe, expect, it } from "vitest";
import { type ApiHarness, apiHarness } from "./api-harness.ts";

// Hardening issue #16, item 14: limits key on the credential, never on what the client chooses.
let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("per-user idea limit over the API", () => {
  it("counts every idea sent with the admin token in one bucket, whatever X-Hermes-Client says", async () => {
    h = await apiHarness();
    await h.config.set("hermes.web.ideas_per_minute", "10", "test");
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const res = await h.call("POST", "/api/submit", {
        json: { idea: `Research idea number ${i} about city beekeeping` },
        headers: { "X-Hermes-Client": `script-${i}` },
      });
      statuses.push(res.status);
      if (res.status === 429) expect(res.json.error.code).toBe("RATE_LIMITED");
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
  });

  it("still labels the thread with the client's name", async () => {
    h = await apiHarness();
    const res = await h.call("POST", "/api/submit", {
      json: { idea: "Research the best budget e-bikes for commuting" },
      headers: { "X-Hermes-Client": "my-script" },
    });
    expect(res.status).toBe(202);
    expect(await h.threadByRef(res.json.data.thread_id)).toMatchObject({ user_id: "api:my-script" });
  });
});

describe("failed authentications", () => {
  it("fill their own bucket per address and never rate-limit the admin, even from the same address", async () => {
    h = await apiHarness({ rateLimiting: true });
    await h.config.set("hermes.api.rate_limit_per_minute", "5", "test");
    const bad: number[] = [];
    for (let i = 0; i < 20; i++)
      bad.push(
        (await h.call("GET", "/api/system/config", { remote: "10.0.0.7", token: `wrong-${i}` })).status,
      );
    // Guessing is throttled: 401 while the failure bucket lasts, then 429.
    expect(bad.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(bad.slice(5))).toEqual(new Set([429]));
    // The admin, from that same address (a reverse proxy) and from another, is untouched.
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.0.7" })).status).toBe(200);
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.0.8" })).status).toBe(200);
    // Missing tokens are failures too.
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.0.7", token: null })).status).toBe(429);
  });

  it("the admin's own bucket is one per credential, across addresses and client names", async () => {
    h = await apiHarness({ rateLimiting: true });
    await h.config.set("hermes.api.rate_limit_per_minute", "3", "test");
    for (let i = 0; i < 3; i++) {
      const res = await h.call("GET", "/api/system/config", {
        remote: `10.0.1.${i}`,
        headers: { "X-Hermes-Client": `c${i}` },
      });
      expect(res.status).toBe(200);
    }
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.1.9" })).status).toBe(429);
    // A wrong token meanwhile is answered as what it is.
    expect((await h.call("GET", "/api/system/config", { remote: "10.0.1.9", token: "bad" })).status).toBe(
      401,
    );
  });
});
