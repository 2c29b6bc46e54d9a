import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "../../src/config/env.ts";

describe("environment", () => {
  it("has the documented defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      HERMES_DB_PATH: "./data/hermes.db",
      HERMES_HTTP_HOST: "127.0.0.1",
      HERMES_HTTP_PORT: 5000,
      OLLAMA_HOST: "http://127.0.0.1:11434",
      HERMES_OWNER_IDS: [],
      HERMES_DB_SYNCHRONOUS: "NORMAL",
    });
    expect(env.TELEGRAM_BOT_TOKEN).toBeUndefined();
    expect(Object.isFrozen(env)).toBe(true);
  });

  it("parses owner ids and trims URLs", () => {
    const env = parseEnv({ HERMES_OWNER_IDS: " 12, 34 ,", OLLAMA_HOST: "http://gpu:11434/" });
    expect(env.HERMES_OWNER_IDS).toEqual(["12", "34"]);
    expect(env.OLLAMA_HOST).toBe("http://gpu:11434");
  });

  it("an invalid value names the variable and never echoes a secret", () => {
    const secret = "not a token but secret-ish value";
    let error: unknown;
    try {
      parseEnv({
        HERMES_HTTP_PORT: "99999",
        TELEGRAM_BOT_TOKEN: secret,
        OLLAMA_HOST: "ftp://x",
        HERMES_OWNER_IDS: "me",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    const env = error as EnvError;
    expect(env.variables.sort()).toEqual([
      "HERMES_HTTP_PORT",
      "HERMES_OWNER_IDS",
      "OLLAMA_HOST",
      "TELEGRAM_BOT_TOKEN",
    ]);
    expect(env.message).toContain("HERMES_HTTP_PORT");
    expect(env.message).not.toContain(secret);
  });

  it("treats empty strings as unset", () => {
    const env = parseEnv({ TELEGRAM_BOT_TOKEN: "", TALOS_URL: "  " });
    expect(env.TELEGRAM_BOT_TOKEN).toBeUndefined();
    expect(env.TALOS_URL).toBeUndefined();
  });

  it("requires an admin token of at least 16 characters", () => {
    expect(() => parseEnv({ HERMES_ADMIN_TOKEN: "short" })).toThrow(/HERMES_ADMIN_TOKEN/);
  });
});

describe("credentials in URL variables", () => {
  it("refuses user:password@ in OLLAMA_HOST, OPENAI_BASE_URL and TALOS_URL, naming only the variable", () => {
    for (const variable of ["OLLAMA_HOST", "OPENAI_BASE_URL", "TALOS_URL"]) {
      let error: unknown;
      try {
        parseEnv({ [variable]: "http://alice:hunter2-secret@gpu.local:11434" });
      } catch (e) {
        error = e;
      }
      expect(error, variable).toBeInstanceOf(EnvError);
      expect((error as EnvError).variables).toEqual([variable]);
      expect((error as EnvError).message).toMatch(/credentials/);
      expect((error as EnvError).message).not.toMatch(/hunter2|alice/);
    }
    expect(() => parseEnv({ TALOS_URL: "http://token-only@talos.local:8001" })).toThrow(EnvError);
  });
});
