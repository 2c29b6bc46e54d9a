import { describe, expect, it } from "vitest";
import { errorText } from "../../bot/telegram/error-text.ts";

describe("errorText", () => {
  it("tells a Telegram user that the disk is full (not 'something went wrong') and that earlier work is kept", () => {
    const sqliteFull = Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    expect(errorText(sqliteFull)).toBe(
      "I couldn't save that.\nHermes' disk is full, so it cannot save anything new right now.\nWhat you sent before is kept. Try again in a few minutes.",
    );
  });

  it("keeps other unexpected errors to the generic sentence (their text may hold internals)", () => {
    expect(errorText(new Error("SELECT * FROM secrets"))).toBe(
      "Something went wrong inside Hermes. It has been logged.",
    );
  });
});
