/**
 * Running counts over a sliding window of answers, so the answer predictor looks up any answer's
 * count in O(1) instead of recounting its windows (answer-predictor.ts). A count window can feed
 * other aggregates (a slot's counts over all idea types) through `onChange`.
 */

import { compareTiedText } from "./tie-order.ts";

export interface AnswerEntry {
  /** normaliseAnswer(value): what answers are compared by. */
  key: string;
  /** As the user wrote it. */
  value: string;
  user: string;
  ideaType: string;
}

export class Counts {
  readonly byKey = new Map<string, number>();
  total = 0;

  change(key: string, delta: number): void {
    const n = (this.byKey.get(key) ?? 0) + delta;
    if (n <= 0) this.byKey.delete(key);
    else this.byKey.set(key, n);
    this.total += delta;
  }

  of(key: string): number {
    return this.byKey.get(key) ?? 0;
  }
}

/** The latest `limit` answers, with their counts; `onChange` sees every entry added (+1) or evicted (−1). */
export class CountWindow {
  readonly counts = new Counts();
  readonly entries: AnswerEntry[] = [];
  private readonly limit: number;
  private readonly onChange: ((e: AnswerEntry, delta: 1 | -1) => void) | undefined;

  constructor(limit: number, onChange?: (e: AnswerEntry, delta: 1 | -1) => void) {
    this.limit = limit;
    this.onChange = onChange;
  }

  add(e: AnswerEntry): void {
    this.entries.push(e);
    this.counts.change(e.key, 1);
    this.onChange?.(e, 1);
    while (this.entries.length > this.limit) {
      const old = this.entries.shift() as AnswerEntry;
      this.counts.change(old.key, -1);
      this.onChange?.(old, -1);
    }
  }
}

/**
 * A slot's answers over all idea types: counts, how many different people gave each answer (for
 * the privacy rule) and how each was spelled (the label shown is the most common spelling).
 */
export class SlotAggregate {
  readonly counts = new Counts();
  private readonly users = new Map<string, Map<string, number>>();
  private readonly spellings = new Map<string, Map<string, number>>();

  change(e: AnswerEntry, delta: 1 | -1): void {
    this.counts.change(e.key, delta);
    bump(this.users, e.key, e.user, delta);
    bump(this.spellings, e.key, e.value, delta);
  }

  /** Different people who gave this answer. */
  people(key: string): number {
    return this.users.get(key)?.size ?? 0;
  }

  /** Every answer given by at least `min` different people. */
  sharedKeys(min: number): string[] {
    return [...this.users].filter(([, users]) => users.size >= min).map(([key]) => key);
  }

  /** The spelling most people used (ties: alphabetical, so the label is stable). */
  spelling(key: string): string | undefined {
    const all = [...(this.spellings.get(key) ?? [])];
    all.sort((a, b) => b[1] - a[1] || compareTiedText(a[0], b[0]));
    return all[0]?.[0];
  }
}

function bump(map: Map<string, Map<string, number>>, key: string, inner: string, delta: number): void {
  const m = map.get(key) ?? new Map<string, number>();
  const n = (m.get(inner) ?? 0) + delta;
  if (n <= 0) m.delete(inner);
  else m.set(inner, n);
  if (m.size === 0) map.delete(key);
  else map.set(key, m);
}
