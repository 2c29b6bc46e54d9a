import { z } from "zod";
import type { SystemConfig } from "../../config/system-config.ts";
import type { PromptVariables } from "../../store/jobs/types.ts";

/** Where a new idea's images are seen: hermes.vision.backend and hermes.vision.model. */
export interface VisionTarget {
  backend: string;
  model: string;
}

/**
 * The vision backend for an idea that came with images, or undefined when they will not be read:
 * none attached, no vision backend configured, a guest (guests run on local backends only, and a
 * vision backend may not be one), or a backend whose protocol carries no images here (Talos).
 */
export function visionTarget(
  config: Pick<SystemConfig, "string">,
  input: { images?: readonly string[] | undefined; guest?: boolean | undefined },
  backends: readonly { name: string; kind: string }[],
): VisionTarget | undefined {
  if (!input.images?.length || input.guest) return undefined;
  const backend = config.string("hermes.vision.backend").trim();
  const model = config.string("hermes.vision.model").trim();
  if (!backend || !model) return undefined;
  return backends.some((b) => b.name === backend && SEES_IMAGES.has(b.kind)) ? { backend, model } : undefined;
}

/** Backend kinds whose requests carry images (Ollama `images`, OpenAI `image_url` parts). */
const SEES_IMAGES: ReadonlySet<string> = new Set(["ollama", "openai"]);

/** The prompt variables that carry the images to the job (and the model that can see them). */
export function visionVariables(images: readonly string[], target: VisionTarget): PromptVariables {
  return { images: [...images], vision_model: target.model };
}

const StoredImages = z.object({ images: z.array(z.string()).min(1), vision_model: z.string().min(1) });

/** A job's images and the model to see them with, when its idea came with images (zod at the column). */
export function jobImages(vars: PromptVariables | null): { images: string[]; model: string } | undefined {
  // Most jobs have none, and a failed safeParse builds zod's list of issues (0.2% of the CPU per idea).
  if (vars?.images === undefined) return undefined;
  const parsed = StoredImages.safeParse(vars);
  return parsed.success ? { images: parsed.data.images, model: parsed.data.vision_model } : undefined;
}
