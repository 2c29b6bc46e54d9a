import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "..", "..", "src");

/** Every relative import (static, re-export, dynamic; type-only included) of every .ts file under src/. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(SRC, f));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  const spec = /(?:import|export)[^'"]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const deps = [...text.matchAll(spec)].map((m) => resolve(dirname(file), (m[1] ?? m[2]) as string));
    graph.set(
      file,
      deps.filter((d) => known.has(d)),
    );
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    path.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === "open") found.push([...path.slice(path.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    path.pop();
    state.set(n, "done");
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found.map((c) => c.map((f) => relative(SRC, f)));
}

describe("src/ imports", () => {
  it("have no cycles (type-only imports included)", () => {
    expect(cycles(importGraph())).toEqual([]);
  });

  it("only the composition root (src/app/) and main.ts build Hermes; src/http holds no operations", () => {
    const graph = importGraph();
    for (const [file, deps] of graph) {
      const rel = relative(SRC, file);
      const importsApp = deps.some((d) => relative(SRC, d).startsWith("app/"));
      if (importsApp && !rel.startsWith("app/")) expect(["main.ts", "cli/chat.ts"]).toContain(rel);
      if (rel.startsWith("http/"))
        for (const d of deps)
          expect(relative(SRC, d)).not.toMatch(/^(ops\/(backup|pid-file|operations)|outbox\/)/);
    }
  });

  it("transports (src/http, the terminal chat) never import the store or the migrations; they call the engine", () => {
    const graph = importGraph();
    for (const [file, deps] of graph) {
      const rel = relative(SRC, file);
      if (!rel.startsWith("http/") && rel !== "cli/chat.ts") continue;
      for (const d of deps)
        expect(`${rel} → ${relative(SRC, d)}`).not.toMatch(/→ (store\/|\.\.\/migrations\/)/);
    }
  });
});
