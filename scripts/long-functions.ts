/**
 * Lists functions, methods and arrow functions longer than a number of lines, longest first.
 *
 *   node scripts/long-functions.ts [--min 60] [--max N] [--no-tests] [dir-or-file ...]
 *
 * --min: list functions with more lines than this (default 60).
 * --max: exit with status 1 if any function has more lines than this (for CI or a lead's check).
 * --no-tests: skip test/ and *.test.ts (a `describe` callback is long by nature).
 * Paths default to the repo's TypeScript folders. Lines are counted from the function's first to
 * its last line, nested functions included (a nested function is also listed on its own).
 *
 * TypeScript 7 ships no JavaScript compiler API, so this parses with the oxc parser bundled in rolldown.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAst } from "rolldown/parseAst";

const defaultRoots = ["src", "bot", "agent", "bench", "migrations", "test", "scripts"];
const skippedDirs = new Set(["node_modules", "dist", "results", "coverage", "data"]);

interface Options {
  min: number;
  max: number | undefined;
  tests: boolean;
  roots: string[];
}

interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

/** An AST node as plain data: oxc nodes carry `type`, `start`, `end` and child nodes as properties. */
type Node = { type: string; start: number; end: number; [key: string]: unknown };

function parseArgs(args: string[]): Options {
  const options: Options = { min: 60, max: undefined, tests: true, roots: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--no-tests") {
      options.tests = false;
    } else if (arg === "--min" || arg === "--max") {
      const value = Number(args[++i]);
      if (!Number.isFinite(value)) throw new Error(`${arg} needs a number`);
      if (arg === "--min") options.min = value;
      else options.max = value;
    } else {
      options.roots.push(arg);
    }
  }
  if (options.roots.length === 0) options.roots = defaultRoots;
  return options;
}

function listTsFiles(path: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    return [];
  }
  if (stat.isFile()) return /\.(c|m)?tsx?$/.test(path) && !path.endsWith(".d.ts") ? [path] : [];
  return readdirSync(path)
    .filter((entry) => !skippedDirs.has(entry) && !entry.startsWith("."))
    .flatMap((entry) => listTsFiles(join(path, entry)));
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as Node).type === "string";
}

const functionTypes = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

/** A readable name for a function node, taken from its declaration or from where it is assigned. */
function functionName(node: Node, parent: Node | undefined): string {
  const id = node.id as Node | null | undefined;
  if (id && typeof id.name === "string") return id.name;
  if (!parent) return "(anonymous)";
  const key = (parent.key ?? parent.id ?? parent.left) as Node | undefined;
  if (key && typeof key.name === "string") return key.name;
  if (key && typeof key.value === "string") return key.value;
  if (parent.type === "CallExpression") return `(callback of ${calleeName(parent)})`;
  return "(anonymous)";
}

function calleeName(call: Node): string {
  const callee = call.callee as Node;
  if (typeof callee.name === "string") return callee.name;
  const property = callee.property as Node | undefined;
  return property && typeof property.name === "string" ? property.name : "call";
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

function longFunctionsIn(file: string, min: number): LongFunction[] {
  const text = readFileSync(file, "utf8");
  const starts = lineStarts(text);
  const found: LongFunction[] = [];
  const visit = (node: Node, parent: Node | undefined): void => {
    if (functionTypes.has(node.type)) {
      // A method's FunctionExpression starts at its parameters; the MethodDefinition holds the name.
      const named = parent?.type === "MethodDefinition" || parent?.type === "Property" ? parent : node;
      const first = lineOf(starts, named.start);
      const lines = lineOf(starts, node.end) - first + 1;
      if (lines > min) found.push({ file, line: first, name: functionName(node, parent), lines });
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const child of value) if (isNode(child)) visit(child, node);
      } else if (isNode(value)) {
        visit(value, node);
      }
    }
  };
  visit(parseAst(text, { lang: "ts" }, file) as unknown as Node, undefined);
  return found;
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const isTest = (file: string) => /(^|\/)test\//.test(file) || /\.test\.tsx?$/.test(file);
  const files = options.roots.flatMap(listTsFiles).filter((file) => options.tests || !isTest(file));
  const found = files.flatMap((file) => longFunctionsIn(file, options.min));
  found.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
  for (const f of found) {
    console.log(`${String(f.lines).padStart(5)}  ${relative(process.cwd(), f.file)}:${f.line}  ${f.name}`);
  }
  console.log(`${found.length} function(s) over ${options.min} lines in ${files.length} files`);
  const max = options.max;
  if (max !== undefined) {
    const over = found.filter((f) => f.lines > max).length;
    if (over > 0) {
      console.error(`${over} function(s) over the --max of ${max} lines`);
      process.exitCode = 1;
    }
  }
}

main();
