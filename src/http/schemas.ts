import { z } from "zod";
import { SLOTS } from "../engine/conversation/types.ts";
import { HermesError } from "../errors.ts";

/**
 * zod schemas of every API request body and path parameter. Unknown fields are refused (typos surface).
 *
 * Each body schema is built by the first request that needs it, then kept: ~1,000 zod schema
 * instances live in an idle Hermes (~1.4 KB each), and most installs never call most routes.
 */
function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

const THREAD_REF = /^([0-9a-f]{8}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A thread in a URL or body: its uuid or the uuid's 8-character prefix (what Telegram shows). */
export function threadRef(raw: string, field = "thread_id"): string {
  const ref = raw.trim().toLowerCase();
  if (!THREAD_REF.test(ref))
    throw new HermesError(
      "INVALID_INPUT",
      `Invalid ${field}: expected a thread uuid or its 8-character prefix.`,
      {
        details: field,
        userAction: "Use the thread_id returned by /api/submit (or its first 8 characters).",
      },
    );
  return ref;
}

export function jobIdParam(raw: string, field = "job_id"): number {
  const n = /^\d{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new HermesError("INVALID_INPUT", `Invalid ${field}: expected a positive whole number.`, {
      details: field,
    });
  return n;
}

const text = (max: number) =>
  z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);
const priority = () => z.int().min(1).max(10);

export const submitSchema = once(() =>
  z.strictObject({
    idea: text(100_000),
    priority: priority().optional(),
    /** Run k samples across backends and flag the draft when they disagree. */
    validate: z.boolean().optional(),
  }),
);

export const continueSchema = once(() =>
  z
    .strictObject({
      answers: z
        .array(
          z
            .strictObject({
              question_id: z.int().positive(),
              answer: text(4000).optional(),
              /** A tap on one of the question's suggested answers (0-based), as the bot and the chat send it. */
              suggestion_index: z.int().min(0).max(9).optional(),
              action: z.enum(["skip", "enough"]).optional(),
            })
            .refine(
              (a) => [a.answer, a.suggestion_index, a.action].filter((x) => x !== undefined).length === 1,
              {
                message:
                  "give one of answer (typed), suggestion_index (a suggested answer) or action (skip | enough)",
              },
            ),
        )
        .max(20)
        .optional(),
      information: text(20_000).optional(),
      /** Slots of assumptions the user changes (each counts against the pattern it came from). */
      corrections: z.array(z.enum(SLOTS)).min(1).max(SLOTS.length).optional(),
    })
    .refine(
      (b) => (b.answers?.length ?? 0) > 0 || b.information !== undefined || b.corrections !== undefined,
      {
        message: "send answers, information, corrections or a mix",
      },
    ),
);

export const optimizeSchema = once(() => z.strictObject({}));

export const cancelSchema = once(() => z.strictObject({ reason: text(200).optional() }));

export const feedbackSchema = once(() =>
  z
    .strictObject({
      thread_id: z.string(),
      job_id: z.int().positive(),
      rating: z.int().min(1).max(5).optional(),
      adjust: z.enum(["shorter", "more_detail"]).optional(),
    })
    .refine((b) => (b.rating === undefined) !== (b.adjust === undefined), {
      message: "give either rating (1-5) or adjust (shorter | more_detail)",
    }),
);

const configValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const configChange = z.strictObject({ key: z.string().min(1).max(200), value: configValue });

export const configPutSchema = once(() =>
  z.union([
    configChange.transform((c) => [c]),
    z.strictObject({ changes: z.array(configChange).min(1).max(100) }).transform((b) => b.changes),
  ]),
);

/** Only http(s), never with user:password@ (credentials would be stored and logged with the URL). */
export const callbackUrlSchema = once(() =>
  z
    .string()
    .trim()
    .max(2000)
    .superRefine((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: "custom", message: "must be an absolute http:// or https:// URL" });
        return;
      }
      if (url.protocol !== "http:" && url.protocol !== "https:")
        ctx.addIssue({ code: "custom", message: "must use http:// or https://" });
      else if (url.username !== "" || url.password !== "")
        ctx.addIssue({ code: "custom", message: "must not contain credentials (user:password@)" });
      else if (url.hostname === "") ctx.addIssue({ code: "custom", message: "must name a host" });
    }),
);

export const externalSubmitSchema = once(() =>
  z.strictObject({
    idea: text(100_000),
    callback_url: callbackUrlSchema(),
    source_app: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'"),
    priority: priority().optional(),
  }),
);

export const externalCallbackSchema = once(() =>
  z.object({
    results: z.union([z.string().max(1_000_000), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
    status: z.enum(["completed", "failed"]).default("completed"),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
);
