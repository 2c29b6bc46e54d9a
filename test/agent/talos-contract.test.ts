import { backendContract } from "../backends/contract.ts";
import { talosTarget } from "./talos-target.ts";

// The same contract every backend kind passes, for Talos in front of the fake Ollama.
backendContract(talosTarget);
