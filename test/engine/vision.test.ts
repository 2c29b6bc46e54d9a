import { describe, expect, it } from "vitest";
import { jobImages, visionTarget, visionVariables } from "../../src/engine/threads/vision.ts";

const configOf = (rows: Record<string, string>) => ({ string: (k: string) => rows[k] ?? "" });
const VISION = configOf({ "hermes.vision.backend": "ollama", "hermes.vision.model": "llava" });
const BACKENDS = [
  { name: "ollama", kind: "ollama" },
  { name: "talos", kind: "talos" },
  { name: "gpt5", kind: "openai" },
];
const images = ["aGVsbG8="];

describe("where an idea's images go", () => {
  it("to the configured vision backend and model", () => {
    expect(visionTarget(VISION, { images }, BACKENDS)).toEqual({ backend: "ollama", model: "llava" });
    const openai = configOf({ "hermes.vision.backend": "gpt5", "hermes.vision.model": "gpt-4o-mini" });
    expect(visionTarget(openai, { images }, BACKENDS)).toEqual({ backend: "gpt5", model: "gpt-4o-mini" });
  });

  it("nowhere without images, without both settings, for a guest, or on a backend that carries no images", () => {
    expect(visionTarget(VISION, {}, BACKENDS)).toBeUndefined();
    expect(
      visionTarget(configOf({ "hermes.vision.backend": "ollama" }), { images }, BACKENDS),
    ).toBeUndefined();
    expect(visionTarget(VISION, { images, guest: true }, BACKENDS)).toBeUndefined();
    const talos = configOf({ "hermes.vision.backend": "talos", "hermes.vision.model": "llava" });
    expect(visionTarget(talos, { images }, BACKENDS)).toBeUndefined();
    expect(visionTarget(VISION, { images }, [{ name: "talos", kind: "talos" }])).toBeUndefined();
  });

  it("a job carries its images and model through its prompt variables, checked when read", () => {
    const vars = { idea: "x", ...visionVariables(images, { backend: "ollama", model: "llava" }) };
    expect(jobImages(vars)).toEqual({ images, model: "llava" });
    expect(jobImages({ idea: "x" })).toBeUndefined();
    expect(jobImages({ images: "not a list", vision_model: "llava" })).toBeUndefined();
    expect(jobImages(null)).toBeUndefined();
  });
});
