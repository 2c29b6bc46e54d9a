import { z } from "zod";
import { type ColumnRef, parseJsonColumn } from "../json-column.ts";
import type { RawBackendRow, ScoreAggregate } from "./statements.ts";

/**
 * The shapes of the backend registry as the manager sees them, and the mapping between them and
 * SQLite rows: registry rows read back, definitions split into columns and JSON config, and the
 * per-call aggregates folded into learned scores. Pure; the queries are in repo.ts.
 */
export interface HealthSnapshot {
  status: string;
  consecutiveFailures: number;
  lastCheckMs: number | undefined;
  lastError: string | undefined;
  latencyMs: number | undefined;
}

/** What a registry row holds, as src/backends/registry/registry.ts reads it back (StoredBackendRow). */
export interface BackendRowView {
  name: string;
  type: string;
  enabled: boolean;
  enabledOverride: boolean | undefined;
  origin: "config" | "runtime";
  primary: boolean;
  config: Record<string, unknown>;
  preferredFor: string[] | undefined;
  fallbacks: string[] | undefined;
}

/** A definition as the manager persists it (BackendDefinition of src/backends/ports.ts, structurally). */
export interface DefinitionRecord {
  name: string;
  type: string;
  enabled: boolean;
  primary: boolean;
  free: boolean;
  preferredFor: string[];
  fallbacks: string[];
  origin: "config" | "runtime";
  [field: string]: unknown;
}

export interface ScoreRow {
  quality: number | undefined;
  speed: number;
  reliability: number;
  samples: number;
  qualitySamples: number;
}

/** Speed 0–1 from the mean latency of successful calls: 0 ms → 1, 5 s → 0.5, 60 s → 0.08. */
export const speedScore = (meanMs: number): number => 5000 / (5000 + Math.max(0, meanMs));

/** Fields of a definition kept in the JSON `config` column (the rest have columns). */
const COLUMN_FIELDS = new Set(["name", "type", "enabled", "primary", "preferredFor", "fallbacks", "origin"]);

/** The part of a definition that goes to the JSON `config` column: every field without a column. */
export function configOf(def: DefinitionRecord): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def)) if (!COLUMN_FIELDS.has(k) && v !== undefined) config[k] = v;
  return config;
}

const NameList = z.array(z.string());
const Config = z.record(z.string(), z.unknown());

/** A JSON array of names, or (hand-edited rows) a comma-separated list; a broken JSON array is an error. */
function nameList(text: string | null, where: ColumnRef): string[] | undefined {
  if (text === null || text.trim() === "") return undefined;
  if (text.trim().startsWith("[")) return parseJsonColumn(NameList, text, where);
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function toRowView(r: RawBackendRow): BackendRowView {
  const at = (column: string) => ({ table: "backends", column, rowId: r.name });
  const config = r.config.trim() === "" ? {} : parseJsonColumn(Config, r.config, at("config"));
  return {
    name: r.name,
    type: r.backend_type,
    enabled: r.enabled !== 0,
    enabledOverride: r.enabled_override === null ? undefined : r.enabled_override !== 0,
    origin: r.origin === "runtime" ? "runtime" : "config",
    primary: r.is_primary === 1,
    config,
    preferredFor: nameList(r.preferred_for_job_types, at("preferred_for_job_types")),
    fallbacks: nameList(r.fallback_backends, at("fallback_backends")),
  };
}

/**
 * Folds per-(backend, job type) aggregates into scores keyed "backend|jobType", plus one
 * "backend|*" score over all job types (weighted by calls, successes and ratings). `overall`
 * holds the latter by backend name, in first-seen order, for the repo to store on the rows.
 */
export function foldScores(rows: ScoreAggregate[]): {
  scores: Map<string, ScoreRow>;
  overall: Map<string, ScoreRow>;
} {
  const out = new Map<string, ScoreRow>();
  const all = new Map<
    string,
    { n: number; ok: number; msSum: number; msN: number; qSum: number; qN: number }
  >();
  for (const r of rows) {
    const okCount = r.reliability * r.n;
    out.set(`${r.name}|${r.job_type}`, {
      quality: r.quality ?? undefined,
      speed: r.mean_ms === null ? 0.5 : speedScore(r.mean_ms),
      reliability: r.reliability,
      samples: r.n,
      qualitySamples: r.rated,
    });
    const a = all.get(r.name) ?? { n: 0, ok: 0, msSum: 0, msN: 0, qSum: 0, qN: 0 };
    a.n += r.n;
    a.ok += okCount;
    if (r.mean_ms !== null) {
      a.msSum += r.mean_ms * okCount;
      a.msN += okCount;
    }
    if (r.quality !== null) {
      a.qSum += r.quality * r.rated;
      a.qN += r.rated;
    }
    all.set(r.name, a);
  }
  const overall = new Map<string, ScoreRow>();
  for (const [name, a] of all) {
    const score: ScoreRow = {
      quality: a.qN > 0 ? a.qSum / a.qN : undefined,
      speed: a.msN > 0 ? speedScore(a.msSum / a.msN) : 0.5,
      reliability: a.n > 0 ? a.ok / a.n : 0,
      samples: a.n,
      qualitySamples: a.qN,
    };
    out.set(`${name}|*`, score);
    overall.set(name, score);
  }
  return { scores: out, overall };
}
