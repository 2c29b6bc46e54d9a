import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HermesError } from "../errors.ts";

/**
 * Prompt templates are text files in prompts/, one per task, with {{name}} placeholders. Found
 * from src/engine/ (running from source) or from dist/ (the production bundle).
 */
const HERE = dirname(fileURLToPath(import.meta.url));
export const PROMPTS_DIR =
  [join(HERE, "..", "..", "prompts"), join(HERE, "..", "prompts")].find((d) => existsSync(d)) ??
  join(HERE, "..", "..", "prompts");

export class PromptLibrary {
  private readonly cache = new Map<string, string>();
  private readonly dir: string;

  constructor(dir: string = PROMPTS_DIR) {
    this.dir = dir;
  }

  template(name: string): string {
    if (!/^[a-z0-9_-]+$/.test(name)) throw new HermesError("INTERNAL", `bad prompt name ${name}`);
    let text = this.cache.get(name);
    if (text === undefined) {
      try {
        text = readFileSync(join(this.dir, `${name}.md`), "utf8").trim();
      } catch (error) {
        throw new HermesError("INTERNAL", `prompt template ${name} is missing`, { cause: error });
      }
      this.cache.set(name, text);
    }
    return text;
  }

  /** Fills {{placeholders}}; unknown placeholders become empty so no template text leaks through. */
  render(name: string, vars: Record<string, string>): string {
    return this.template(name).replace(/\{\{\s*([a-z0-9_]+)\s*\}\}/gi, (_, key: string) => vars[key] ?? "");
  }
}
