/**
 * Prices of paid models, in cents per million tokens, input and output. Built-in defaults for the
 * models the spec names (list prices at the time of writing) plus overrides from the JSON config
 * row `hermes.budget.price_table`:
 *
 *   {"anthropic/claude-3-sonnet": [300, 1500], "remote_api:my-model": {"input": 50, "output": 150}}
 *
 * A key is a model ("openai/gpt-4o-mini"), or "backend:model" for one backend only. A model with no
 * known price is never called by a paid backend: the manager refuses it rather than count it free.
 */
import type { ChatMessage, TokenUsage } from "../backend.ts";

export interface Price {
  inputCentsPerM: number;
  outputCentsPerM: number;
}

const p = (input: number, output: number): Price => ({ inputCentsPerM: input, outputCentsPerM: output });

/** Cents per million tokens (USD list prices × 100). */
const DEFAULT_PRICES: Readonly<Record<string, Price>> = {
  "anthropic/claude-3-sonnet": p(300, 1500),
  "anthropic/claude-3.5-sonnet": p(300, 1500),
  "anthropic/claude-3.7-sonnet": p(300, 1500),
  "anthropic/claude-sonnet-4": p(300, 1500),
  "anthropic/claude-3-opus": p(1500, 7500),
  "anthropic/claude-3-haiku": p(25, 125),
  "anthropic/claude-3.5-haiku": p(80, 400),
  "openai/gpt-4-turbo": p(1000, 3000),
  "openai/gpt-4o": p(250, 1000),
  "openai/gpt-4o-mini": p(15, 60),
  "openai/gpt-4.1": p(200, 800),
  "openai/gpt-4.1-mini": p(40, 160),
  "openai/gpt-4.1-nano": p(10, 40),
  "openai/gpt-5": p(125, 1000),
  "openai/gpt-5-mini": p(25, 200),
  "openai/gpt-5-nano": p(5, 40),
  "google/gemini-2.5-flash": p(30, 250),
  "google/gemini-2.5-pro": p(125, 1000),
  "meta-llama/llama-3.1-8b-instruct": p(2, 5),
  "meta-llama/llama-3.1-70b-instruct": p(10, 28),
};

const PriceSpec = (v: unknown): Price | undefined => {
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === "number" && n >= 0)) {
    return p(v[0] as number, v[1] as number);
  }
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    const input = o.input ?? o.inputCentsPerM;
    const output = o.output ?? o.outputCentsPerM;
    if (typeof input === "number" && typeof output === "number" && input >= 0 && output >= 0)
      return p(input, output);
  }
  return undefined;
};

export class PriceTable {
  readonly #prices = new Map<string, Price>();
  /** Problems found while reading the overrides (shown by status and logged by the caller). */
  readonly problems: string[] = [];

  constructor(overridesJson = "") {
    for (const [k, v] of Object.entries(DEFAULT_PRICES)) this.#prices.set(k.toLowerCase(), v);
    const raw = overridesJson.trim();
    if (raw === "" || raw === "{}") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.problems.push("hermes.budget.price_table is not valid JSON; using the built-in prices only");
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      this.problems.push("hermes.budget.price_table must be a JSON object of model → [input, output]");
      return;
    }
    for (const [key, value] of Object.entries(parsed)) {
      const price = PriceSpec(value);
      if (price) this.#prices.set(key.toLowerCase(), price);
      else this.problems.push(`price of ${key} is not [input, output] cents per million tokens`);
    }
  }

  /**
   * The price of `model` on `backend`: "backend:model", then the model, then the model without or
   * with a provider prefix ("gpt-4o-mini" ↔ "openai/gpt-4o-mini"). OpenRouter's ":free" variants cost
   * nothing. Undefined when unknown.
   */
  lookup(backend: string, model: string): Price | undefined {
    const m = model.toLowerCase();
    const direct = this.#prices.get(`${backend.toLowerCase()}:${m}`) ?? this.#prices.get(m);
    if (direct) return direct;
    if (m.endsWith(":free")) return p(0, 0);
    const slash = m.indexOf("/");
    if (slash >= 0) return this.#prices.get(m.slice(slash + 1));
    for (const prefix of ["openai/", "anthropic/", "google/", "meta-llama/"]) {
      const hit = this.#prices.get(prefix + m);
      if (hit) return hit;
    }
    return undefined;
  }
}

/**
 * Prompt tokens, over-estimated on purpose (≈3 characters a token, 4 tokens per message of
 * framing): the reservation must not be smaller than the bill.
 */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return Math.ceil(chars / 3) + 4 * messages.length + 8;
}

/** The most a call can cost: every prompt token (estimated) plus `maxTokens` of output. */
export function maxCostCents(price: Price, promptTokens: number, maxTokens: number): number {
  return (promptTokens * price.inputCentsPerM + maxTokens * price.outputCentsPerM) / 1_000_000;
}

export function usageCostCents(price: Price, usage: TokenUsage): number {
  return (usage.inputTokens * price.inputCentsPerM + usage.outputTokens * price.outputCentsPerM) / 1_000_000;
}
