import { normal, type Random } from "./random.ts";

/**
 * Bayesian linear regression with known noise: precision P = P0 + XᵀX/σ², mean = P⁻¹(P0 m0 + Xᵀy/σ²).
 * Small dimension (5), so everything is recomputed by Cholesky when needed.
 */
export class BayesLinear {
  n = 0;
  private readonly d: number;
  private readonly precision: number[][];
  private readonly b: number[];
  private readonly noiseVar: number;
  private cache: { chol: number[][]; mean: number[] } | undefined;

  constructor(priorMean: readonly number[], priorSd: number, noiseSd: number) {
    this.d = priorMean.length;
    const p0 = 1 / (priorSd * priorSd);
    this.precision = priorMean.map((_, i) => priorMean.map((__, j) => (i === j ? p0 : 0)));
    this.b = priorMean.map((m) => m * p0);
    this.noiseVar = noiseSd * noiseSd;
  }

  observe(x: readonly number[], y: number): void {
    this.n++;
    for (let i = 0; i < this.d; i++) {
      const xi = x[i] ?? 0;
      this.b[i] = (this.b[i] ?? 0) + (xi * y) / this.noiseVar;
      const row = this.precision[i] as number[];
      for (let j = 0; j < this.d; j++) row[j] = (row[j] ?? 0) + (xi * (x[j] ?? 0)) / this.noiseVar;
    }
    this.cache = undefined;
  }

  mean(): number[] {
    return this.solved().mean;
  }

  /** A draw from the posterior: mean + L⁻ᵀz, where P = LLᵀ. */
  sample(random: Random): number[] {
    const { chol, mean } = this.solved();
    const z = mean.map(() => normal(random));
    const v = backSubstituteTransposed(chol, z);
    return mean.map((m, i) => m + (v[i] ?? 0));
  }

  /** Marginal posterior standard deviations. */
  sd(): number[] {
    const { chol } = this.solved();
    const out: number[] = [];
    for (let i = 0; i < this.d; i++) {
      const e = Array.from({ length: this.d }, (_, k) => (k === i ? 1 : 0));
      const col = backSubstituteTransposed(chol, forwardSubstitute(chol, e));
      out.push(Math.sqrt(Math.max(0, col[i] ?? 0)));
    }
    return out;
  }

  private solved(): { chol: number[][]; mean: number[] } {
    if (!this.cache) {
      const chol = cholesky(this.precision);
      const mean = backSubstituteTransposed(chol, forwardSubstitute(chol, this.b));
      this.cache = { chol, mean };
    }
    return this.cache;
  }
}

function cholesky(a: number[][]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]?.[j] ?? 0;
      for (let k = 0; k < j; k++) sum -= (l[i]?.[k] ?? 0) * (l[j]?.[k] ?? 0);
      const li = l[i] as number[];
      li[j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / (l[j]?.[j] ?? 1);
    }
  }
  return l;
}

/** Solves L y = b. */
function forwardSubstitute(l: number[][], b: readonly number[]): number[] {
  const y: number[] = [];
  for (let i = 0; i < l.length; i++) {
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= (l[i]?.[k] ?? 0) * (y[k] ?? 0);
    y.push(sum / (l[i]?.[i] ?? 1));
  }
  return y;
}

/** Solves Lᵀ x = y. */
function backSubstituteTransposed(l: number[][], y: readonly number[]): number[] {
  const n = l.length;
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] ?? 0;
    for (let k = i + 1; k < n; k++) sum -= (l[k]?.[i] ?? 0) * (x[k] ?? 0);
    x[i] = sum / (l[i]?.[i] ?? 1);
  }
  return x;
}
