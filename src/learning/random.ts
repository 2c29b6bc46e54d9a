/**
 * Seeded randomness for the learners and the benchmark: the same seed gives the same questions,
 * the same exploration and the same simulated users, so tests and benchmarks are deterministic.
 * Everything takes a `() => number` in [0, 1) (Math.random works too, in production if wanted).
 */
export type Random = () => number;

/** mulberry32: a tiny, fast 32-bit PRNG, good enough for exploration and simulation. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The learners' randomness from the configured seed (hermes.learning.random_seed): a seed > 0
 * repeats a run exactly; 0 draws a fresh seed from `entropy` (production's default).
 */
export function configuredRandom(seed: number, entropy: () => number): Random {
  return mulberry32(seed > 0 ? seed : Math.floor(entropy() * 4294967296));
}

/** A 32-bit seed from any string (FNV-1a), e.g. seedOf(`conversation:${i}`). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Standard normal draw (Box–Muller). */
export function normal(random: Random, mean = 0, sd = 1): number {
  let u = random();
  while (u <= Number.EPSILON) u = random();
  const v = random();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) draw (Marsaglia–Tsang; shape < 1 by boosting). */
export function gamma(random: Random, shape: number): number {
  if (shape <= 0) return 0;
  if (shape < 1) {
    let u = random();
    while (u <= Number.EPSILON) u = random();
    return gamma(random, shape + 1) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(Math.max(u, Number.MIN_VALUE)) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(alpha, beta) draw. */
export function betaSample(random: Random, alpha: number, beta: number): number {
  const x = gamma(random, alpha);
  const y = gamma(random, beta);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Picks an index with probability proportional to its weight. */
export function pickWeighted(random: Random, weights: readonly number[]): number {
  const total = weights.reduce((s, w) => s + Math.max(0, w), 0);
  if (total <= 0) return Math.floor(random() * weights.length);
  let r = random() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= Math.max(0, weights[i] ?? 0);
    if (r < 0) return i;
  }
  return weights.length - 1;
}
