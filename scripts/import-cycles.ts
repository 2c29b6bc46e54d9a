/**
 * Lists import cycles between the repo's TypeScript files (relative imports only).
 *
 *   node scripts/import-cycles.ts [--values-only] [dir ...]
 *
 * Each cycle is printed as a strongly connected group of files; exits 1 when there is one.
 * --values-only ignores `import type` edges (they vanish at run time, but still tangle the design).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

interface Edge {
  to: string;
  typeOnly: boolean;
}

function listTsFiles(path: string): string[] {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return [];
  if (stat.isFile()) return path.endsWith(".ts") ? [resolve(path)] : [];
  return readdirSync(path)
    .filter((entry) => entry !== "node_modules" && !entry.startsWith("."))
    .flatMap((entry) => listTsFiles(join(path, entry)));
}

const IMPORT = /^(?:import|export)\s+(type\s+)?[^;]*?from\s+"(\.[^"]+)"/gms;

function importGraph(files: string[]): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const file of files) {
    const edges = [...readFileSync(file, "utf8").matchAll(IMPORT)].map((m) => ({
      to: resolve(dirname(file), m[2] ?? ""),
      typeOnly: m[1] !== undefined,
    }));
    graph.set(file, edges);
  }
  return graph;
}

/** Tarjan's strongly connected components with more than one file: the cycles. */
function cycles(graph: Map<string, Edge[]>, valuesOnly: boolean): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const edge of graph.get(v) ?? []) {
      if ((valuesOnly && edge.typeOnly) || !graph.has(edge.to)) continue;
      if (!index.has(edge.to)) {
        visit(edge.to);
        low.set(v, Math.min(low.get(v)!, low.get(edge.to)!));
      } else if (onStack.has(edge.to)) {
        low.set(v, Math.min(low.get(v)!, index.get(edge.to)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) found.push(group);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const args = process.argv.slice(2);
const valuesOnly = args.includes("--values-only");
const roots = args.filter((a) => !a.startsWith("--"));
const files = (roots.length > 0 ? roots : ["src", "bot", "agent"]).flatMap(listTsFiles);
const found = cycles(importGraph(files), valuesOnly);
for (const group of found) console.log(group.map((f) => relative(process.cwd(), f)).join(" <-> "));
console.log(`${found.length} import cycle(s) among ${files.length} files`);
if (found.length > 0) process.exitCode = 1;
