/**
 * `npm start` runs this first: it rebuilds dist/ only when a source or build input is newer than
 * the bundle, and prints one line instead of the bundler's report. Builds through rolldown's API
 * with the project's own rolldown.config.ts, so `npm run build` and this make the same bundle.
 *
 *   node scripts/build-if-stale.ts [--force]
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_DIRS = ["src", "bot", "migrations"];
const BUILD_INPUTS = ["package.json", "package-lock.json", "rolldown.config.ts", "tsconfig.json"];
const BUNDLE = join(root, "dist", "main.js");

/** The newest modification time under a directory (recursively), or of a file. */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function bundleIsStale(): boolean {
  if (!existsSync(BUNDLE)) return true;
  const built = statSync(BUNDLE).mtimeMs;
  const inputs = [...SOURCE_DIRS, ...BUILD_INPUTS].map((p) => newestMtime(join(root, p)));
  return Math.max(...inputs) > built;
}

async function build(): Promise<void> {
  const { build: rolldown } = await import("rolldown");
  const { default: config } = (await import(join(root, "rolldown.config.ts"))) as {
    default: import("rolldown").BuildOptions;
  };
  const warnings: string[] = [];
  await rolldown({
    ...config,
    cwd: root,
    // Warnings from dependencies are theirs to fix; ours are printed, one line each.
    onLog: (level, log) => {
      if (level === "warn" && !String(log.id ?? "").includes("node_modules")) warnings.push(log.message);
    },
  });
  for (const warning of warnings) process.stderr.write(`build warning: ${warning}\n`);
}

if (import.meta.filename === process.argv[1]) {
  const force = process.argv.includes("--force");
  if (force || bundleIsStale()) {
    const started = performance.now();
    process.stdout.write("Building Hermes (sources changed)… ");
    await build();
    process.stdout.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
}
