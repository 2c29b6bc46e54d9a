import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The README's commands are npm scripts: each must start a tool that an install provides. */
const root = join(import.meta.dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
};
const SYSTEM = new Set(["node", "npm", "bash"]);

describe("package.json scripts", () => {
  it.each(Object.entries(pkg.scripts))("%s runs an installed tool and files that exist", (_name, command) => {
    const [tool, ...args] = command.split(/\s+/);
    expect(tool).toBeDefined();
    if (!SYSTEM.has(tool as string))
      expect(existsSync(join(root, "node_modules", ".bin", tool as string))).toBe(true);
    for (const arg of args.filter((a) => /\.(ts|js|sh)$/.test(a) && !a.startsWith("dist/")))
      expect(existsSync(join(root, arg)), arg).toBe(true);
  });
});
