/**
 * Agreement between k samples of the same job. Structured answers (every sample parses as JSON,
 * code fences allowed) agree when they are equal after canonicalisation (sorted keys); text answers
 * are compared by the Jaccard similarity of their normalised token sets (lower case, letters and
 * digits only). The chosen answer is the one closest to all others (the medoid); agreement is its
 * mean similarity to every requested sample — itself counting 1, a failed sample counting 0 — to
 * two decimals, so 2 of 3 equal answers give 0.67.
 */

export interface AgreementResult {
  method: "exact" | "similarity";
  /** Index (into the given texts) of the chosen answer. */
  chosen: number;
  agreement: number;
  /** Similarity of each text to the chosen one. */
  similarities: number[];
}

function stripFences(text: string): string {
  const t = text.trim();
  const m = /^```[a-zA-Z0-9_-]*\s*\n([\s\S]*?)\n?```$/.exec(t);
  return m ? (m[1] ?? "").trim() : t;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Canonical JSON text of a structured answer, or undefined when it is not JSON (object/array). */
export function structuredForm(text: string): string | undefined {
  const body = stripFences(text);
  if (!/^[[{]/.test(body)) return undefined;
  try {
    return canonical(JSON.parse(body));
  } catch {
    return undefined;
  }
}

export function tokenSet(text: string): Set<string> {
  const out = new Set<string>();
  for (const t of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (t !== "") out.add(t);
  return out;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let common = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const t of small) if (large.has(t)) common++;
  return common / (a.size + b.size - common);
}

/**
 * `texts` are the samples that succeeded; `requested` is k (failed samples count as disagreeing).
 * `structured` forces exact comparison (answers that are not JSON then agree with nothing).
 */
export function measureAgreement(
  texts: readonly string[],
  requested: number,
  structured?: boolean,
): AgreementResult {
  const n = texts.length;
  const k = Math.max(requested, n, 1);
  const forms = texts.map(structuredForm);
  const exact = structured === true || (n > 0 && forms.every((f) => f !== undefined));
  const sim: number[][] = [];
  if (exact) {
    for (let i = 0; i < n; i++)
      sim.push(forms.map((f, j) => (i === j || (f !== undefined && f === forms[i]) ? 1 : 0)));
  } else {
    const sets = texts.map(tokenSet);
    for (let i = 0; i < n; i++)
      sim.push(sets.map((s, j) => (i === j ? 1 : jaccard(sets[i] as Set<string>, s))));
  }
  let chosen = 0;
  let best = -1;
  for (let i = 0; i < n; i++) {
    const total = (sim[i] as number[]).reduce((a, b) => a + b, 0);
    if (total > best) {
      best = total;
      chosen = i;
    }
  }
  const agreement = n === 0 ? 0 : Math.round((best / k) * 100) / 100;
  return {
    method: exact ? "exact" : "similarity",
    chosen,
    agreement,
    similarities: n === 0 ? [] : (sim[chosen] as number[]).map((v) => Math.round(v * 1000) / 1000),
  };
}
