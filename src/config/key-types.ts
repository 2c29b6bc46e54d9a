import { Cron } from "croner";
import { z } from "zod";

/**
 * The building blocks of the configuration key registry (keys.ts): one constructor per value type,
 * each giving a key its zod schema (stored text → typed value, with messages a person can act
 * on), the canonical text of a value, and the columns its system_config row is seeded with.
 */

/** How a value is parsed; `json` is stored with value_type 'string' (the column's vocabulary). */
export type KeyType = "int" | "float" | "bool" | "string" | "list" | "cron" | "url" | "enum" | "json";

/** The spec's `config_type` vocabulary. */
export type ConfigKind = "constraint" | "preference" | "system_setting" | "budget";

/** The migration that first inserts a key's row (a key added later needs a new migration). */
export type SeedMigration = "002" | "006" | "007" | "008" | "009" | "012" | "015" | "017" | "018";

export interface KeyMeta {
  description: string;
  /** The spec's config_type. */
  kind: ConfigKind;
  since: SeedMigration;
  /** false: changed only in the deployment (FORBIDDEN at runtime). Default true. */
  editable?: boolean;
  /** The running process reads it once at start. Default false. */
  requiresRestart?: boolean;
  /** API keys and tokens: masked wherever shown, never logged. Default false. */
  secret?: boolean;
  /** Extra pattern (JavaScript RegExp source, anchored) the canonical text must match. */
  regex?: string;
}

export interface KeyDef<T> {
  readonly type: KeyType;
  readonly default: T;
  readonly schema: z.ZodType<T, string>;
  /** The canonical stored text of a value. */
  readonly format: (value: T) => string;
  readonly description: string;
  readonly kind: ConfigKind;
  readonly since: SeedMigration;
  readonly editable: boolean;
  readonly requiresRestart: boolean;
  readonly secret: boolean;
  readonly regex: string | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly values: readonly string[] | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry entry of any value type
export type AnyKeyDef = KeyDef<any>;

/** The value type of a key definition. */
export type ValueOf<D> = D extends KeyDef<infer T> ? T : never;

/** Regexes shared by several keys (stored in system_config.validation_regex). */
export const CONFIG_REGEX = {
  bool: "^(true|false)$",
  /** Comma-separated identifiers (alert types, backend names), possibly empty. */
  identifierList: "^([a-z0-9_]+(,[a-z0-9_]+)*)?$",
  /** Comma-separated model names (`llama3.1:8b`, `openai/gpt-4-turbo`), no spaces, possibly empty. */
  modelList: "^([^,\\s]+(,[^,\\s]+)*)?$",
  identifier: "^[a-z0-9_]+$",
  /** Five cron fields (minute hour day-of-month month day-of-week); croner checks the details. */
  cron: "^\\s*[0-9A-Za-z*/,?#-]+(\\s+[0-9A-Za-z*/,?#-]+){4}\\s*$",
  url: "^https?://[^\\s]+$",
} as const;

const MAX_LENGTH = 2000;

/** Raw text → trimmed text, refusing what no key accepts. */
const text = z
  .string()
  .transform((s) => s.trim())
  .refine((s) => s.length <= MAX_LENGTH, `value is too long (${MAX_LENGTH} characters at most)`);

function matching(source: string | undefined): (s: string) => boolean {
  if (!source) return () => true;
  const re = new RegExp(source);
  return (s) => re.test(s);
}

function define<T>(
  type: KeyType,
  meta: KeyMeta & { default: T; min?: number; max?: number; values?: readonly string[] },
  schema: z.ZodType<T, string>,
  format: (value: T) => string,
): KeyDef<T> {
  return {
    type,
    default: meta.default,
    schema,
    format,
    description: meta.description,
    kind: meta.kind,
    since: meta.since,
    editable: meta.editable ?? true,
    requiresRestart: meta.requiresRestart ?? false,
    secret: meta.secret ?? false,
    regex: meta.regex,
    min: meta.min,
    max: meta.max,
    values: meta.values,
  };
}

function numeric(whole: boolean, min: number | undefined, max: number | undefined) {
  return text.transform((s, ctx) => {
    if (!/^-?\d+(\.\d+)?$/.test(s)) {
      ctx.addIssue({ code: "custom", message: "must be a number" });
      return z.NEVER;
    }
    const n = Number(s);
    const problem =
      whole && !Number.isInteger(n)
        ? "must be a whole number"
        : min !== undefined && n < min
          ? `must be at least ${min}`
          : max !== undefined && n > max
            ? `must be at most ${max}`
            : undefined;
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    return n;
  });
}

type NumberMeta = KeyMeta & { default: number; min?: number; max?: number };

export function int(meta: NumberMeta): KeyDef<number> {
  return define("int", meta, numeric(true, meta.min, meta.max), String);
}

export function float(meta: NumberMeta): KeyDef<number> {
  return define("float", meta, numeric(false, meta.min, meta.max), String);
}

export function bool(meta: KeyMeta & { default: boolean }): KeyDef<boolean> {
  const schema = text.transform((s, ctx) => {
    if (/^(true|1|yes|on)$/i.test(s)) return true;
    if (/^(false|0|no|off)$/i.test(s)) return false;
    ctx.addIssue({ code: "custom", message: "must be true or false" });
    return z.NEVER;
  });
  return define("bool", { regex: CONFIG_REGEX.bool, ...meta }, schema, String);
}

/** Free text, optionally restricted by a regex. */
export function string(meta: KeyMeta & { default: string }): KeyDef<string> {
  const ok = matching(meta.regex);
  return define("string", meta, text.refine(ok, `must match ${meta.regex}`), (v) => v);
}

/** Comma-separated items (stored without spaces). */
export function list(meta: KeyMeta & { default: readonly string[] }): KeyDef<readonly string[]> {
  const ok = matching(meta.regex);
  const schema = text
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== ""),
    )
    .refine((items) => ok(items.join(",")), `must match ${meta.regex}`);
  return define("list", meta, schema, (v) => v.join(","));
}

/** A five-field cron expression that croner accepts (so `99 99 * * *` is refused). */
export function cron(meta: KeyMeta & { default: string }): KeyDef<string> {
  const schema = text.superRefine((s, ctx) => {
    if (s.split(/\s+/).length !== 5) {
      ctx.addIssue({ code: "custom", message: "must be a cron expression with 5 fields" });
      return;
    }
    try {
      new Cron(s, { paused: true }).stop();
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      ctx.addIssue({ code: "custom", message: `not a valid cron expression (${why})` });
    }
  });
  return define("cron", { regex: CONFIG_REGEX.cron, ...meta }, schema, (v) => v);
}

export function url(meta: KeyMeta & { default: string }): KeyDef<string> {
  const schema = text.refine((s) => s === "" || /^https?:\/\/\S+$/i.test(s), "must be an http(s) URL");
  return define("url", { regex: CONFIG_REGEX.url, ...meta }, schema, (v) => v);
}

/** One of a fixed set of words. */
export function oneOf<const V extends string>(
  values: readonly V[],
  meta: KeyMeta & { default: NoInfer<V> },
): KeyDef<V> {
  const allowed: ReadonlySet<string> = new Set(values);
  const schema = text.refine((s): s is V => allowed.has(s), `must be one of ${values.join(", ")}`);
  return define("enum", { regex: `^(${values.join("|")})$`, values, ...meta }, schema, (v) => v);
}

/** A JSON object, kept as its text (the reader parses what it needs). */
export function json(meta: KeyMeta & { default: string }): KeyDef<string> {
  const schema = text.refine((s) => {
    try {
      const v: unknown = JSON.parse(s);
      return typeof v === "object" && v !== null && !Array.isArray(v);
    } catch {
      return false;
    }
  }, "must be a JSON object");
  return define("json", { regex: "^\\{[\\s\\S]*\\}$", ...meta }, schema, (v) => v);
}
