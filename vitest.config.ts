import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores: keep forks modest so e2e suites with child processes do not starve each other.
    pool: "forks",
    maxWorkers: 2,
  },
});
