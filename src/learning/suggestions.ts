import { normaliseAnswer } from "./effectiveness.ts";
import type { Slot } from "./quick-analysis.ts";

/**
 * Learned suggested answers: what people most often answer about a slot for an idea type, offered
 * as buttons next to the template's own suggestions (a tap is quicker than typing).
 *
 * Only answers given by at least MIN_USERS different people are offered, so one person's words are
 * never shown to someone else. Counts cover the latest WINDOW answers per (idea type, slot).
 */
export const MIN_USERS = 3;
const WINDOW = 150;

interface Entry {
  key: string;
  value: string;
  user: string;
}

export class SuggestionLearner {
  private readonly recent = new Map<string, Entry[]>();

  observe(ideaType: string, slot: Slot, answer: string, userId: string | null): void {
    const key = normaliseAnswer(answer);
    if (key === "" || userId === null) return;
    const bucket = `${ideaType}|${slot}`;
    const list = this.recent.get(bucket) ?? [];
    list.push({ key, value: answer.trim(), user: userId });
    if (list.length > WINDOW) list.splice(0, list.length - WINDOW);
    this.recent.set(bucket, list);
  }

  /** The most frequent answers (given by ≥ MIN_USERS people), most frequent first. */
  popular(ideaType: string, slot: Slot, limit = 2): string[] {
    const list = this.recent.get(`${ideaType}|${slot}`) ?? [];
    const groups = new Map<string, { value: string; count: number; users: Set<string> }>();
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i] as Entry;
      const g = groups.get(e.key) ?? { value: e.value, count: 0, users: new Set<string>() };
      g.count++;
      g.users.add(e.user);
      groups.set(e.key, g);
    }
    return [...groups.values()]
      .filter((g) => g.users.size >= MIN_USERS)
      .sort((a, b) => b.count - a.count)
      .slice(0, limit)
      .map((g) => g.value);
  }
}
