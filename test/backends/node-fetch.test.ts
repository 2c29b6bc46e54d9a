import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { networkCode } from "../../src/backends/http/network.ts";
import { nodeFetch } from "../../src/backends/http/node-fetch.ts";

/** The backends' fetch over node:http: what the SDKs and the error mapping rely on. */
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Handler): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => handler(req, body, res));
  });
  server.on("connection", () => connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
  };
}

describe("nodeFetch", () => {
  it("sends method, headers and body; answers a Response; reuses one connection", async () => {
    const seen: { method?: string; type?: string; body: string }[] = [];
    const { url, connections } = await serve((req, body, res) => {
      seen.push({ method: req.method, type: req.headers["content-type"], body });
      res.writeHead(201, "Made", { "content-type": "application/json", "x-two": ["a", "b"] });
      res.end(JSON.stringify({ ok: true }));
    });
    const f = nodeFetch();
    for (let i = 0; i < 2; i++) {
      const res = await f(`${url}/api/x`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"n":1}',
      });
      expect([res.status, res.statusText, res.ok, res.headers.get("x-two")]).toEqual([
        201,
        "Made",
        true,
        "a, b",
      ]);
      expect(await res.json()).toEqual({ ok: true });
    }
    expect(seen).toEqual([
      { method: "POST", type: "application/json", body: '{"n":1}' },
      { method: "POST", type: "application/json", body: '{"n":1}' },
    ]);
    expect(connections()).toBe(1);
  });

  it("checks every NDJSON line, also across chunks, and fails the body at a bad one", async () => {
    const { url } = await serve((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"a":1}\n{"b":');
      res.write('2}\n{"c":3}\nnot json\n');
      res.end('{"d":4}\n');
    });
    const checked: string[] = [];
    const bad = new Error("bad line");
    const res = await nodeFetch()(url, undefined, {
      checkNdjsonLine: (line) => {
        checked.push(line);
        return line.startsWith("{") ? undefined : bad;
      },
    });
    await expect(res.text()).rejects.toBe(bad);
    expect(checked).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', "not json"]);
  });

  it("a 204 has no body; a refused connection rejects with its network code", async () => {
    const { url } = await serve((_req, _body, res) => {
      res.writeHead(204);
      res.end();
    });
    const res = await nodeFetch()(url);
    expect([res.status, res.body]).toEqual([204, null]);

    const closed = await serve(() => {});
    const port = new URL(closed.url).port;
    const s = servers.pop();
    await new Promise((r) => s?.close(r));
    const refused = await nodeFetch()(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(networkCode(refused)).toBe("ECONNREFUSED");
  });

  it("either signal aborts: before the answer the call rejects, during it the body errors", async () => {
    const { url } = await serve((req, _body, res) => {
      if (req.url === "/hang") return; // never answers
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"a":1}\n'); // and never ends
    });
    const f = nodeFetch();
    const own = new AbortController();
    const pending = f(`${url}/hang`, { signal: own.signal });
    own.abort(new Error("the SDK's abort"));
    await expect(pending).rejects.toThrow("the SDK's abort");

    const guard = new AbortController();
    const res = await f(`${url}/stream`, undefined, { signal: guard.signal });
    const reader = res.body?.getReader();
    expect(new TextDecoder().decode((await reader?.read())?.value)).toBe('{"a":1}\n');
    guard.abort(new Error("the call's deadline"));
    await expect(reader?.read()).rejects.toThrow("the call's deadline");
  });

  it("follows redirects as fetch does: 307 keeps the POST, 303 turns it into a GET, another origin gets no credentials", async () => {
    const other = await serve((req, body, res) => {
      res.end(
        JSON.stringify({ at: "other", method: req.method, auth: req.headers.authorization ?? null, body }),
      );
    });
    const { url } = await serve((req, body, res) => {
      if (req.url === "/307") return res.writeHead(307, { location: "/final" }).end();
      if (req.url === "/303") return res.writeHead(303, { location: "/final" }).end();
      if (req.url === "/away") return res.writeHead(302, { location: `${other.url}/x` }).end();
      if (req.url === "/loop") return res.writeHead(302, { location: "/loop" }).end();
      res.end(
        JSON.stringify({ at: "final", method: req.method, auth: req.headers.authorization ?? null, body }),
      );
    });
    const f = nodeFetch();
    const post = (path: string) =>
      f(`${url}${path}`, { method: "POST", headers: { Authorization: "Bearer k" }, body: "{}" }).then((r) =>
        r.json(),
      );
    expect(await post("/307")).toEqual({ at: "final", method: "POST", auth: "Bearer k", body: "{}" });
    expect(await post("/303")).toEqual({ at: "final", method: "GET", auth: "Bearer k", body: "" });
    expect(await post("/away")).toEqual({ at: "other", method: "GET", auth: null, body: "" });
    await expect(post("/loop")).rejects.toThrow("fetch failed");
  });

  it("a body cut mid-answer errors with a network code", async () => {
    const { url } = await serve((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"a":1}\n', () => res.socket?.destroy());
    });
    const res = await nodeFetch()(url);
    const error = await res.text().catch((e: unknown) => e);
    expect(networkCode(error)).toBe("ECONNRESET");
  });

  it("with idleSocketMs an unused connection is closed, and a call that waits longer is not cut", async () => {
    const closed: Promise<void>[] = [];
    const { url, connections } = await serve((req, _body, res) => {
      // A long poll: the answer comes after three idle periods.
      setTimeout(() => res.end("late"), req.url === "/slow" ? 90 : 0);
    });
    servers[0]?.on("connection", (socket) => closed.push(new Promise((r) => socket.once("close", r))));
    const f = nodeFetch({ idleSocketMs: 30 });
    expect(await (await f(`${url}/slow`)).text()).toBe("late");
    expect(connections()).toBe(1);
    await closed[0]; // closed by the client once it sat unused for 30 ms
    expect(await (await f(`${url}/again`)).text()).toBe("late");
    expect(connections()).toBe(2);
  });
});
