import { describe, expect, it } from "vitest";
import { assumptionKeyboard, assumptionText, parseAssumptionData } from "../../bot/telegram/keyboards.ts";

describe("the assumption message and its Change button", () => {
  const a = { slot: "constraints" as const, label: "Constraints", value: "under 900 euros", patternId: 4 };

  it("says what was assumed and carries a one-tap correction for that thread and slot", () => {
    expect(assumptionText(a)).toBe("🧠 Assumed from earlier — Constraints: under 900 euros");
    const kb = assumptionKeyboard(42, a).inline_keyboard.flat();
    expect(kb).toEqual([{ text: "✏ Change", callback_data: "as:42:constraints" }]);
    expect(parseAssumptionData("as:42:constraints")).toEqual({ threadId: 42, slot: "constraints" });
  });

  it("refuses callback data that names no slot", () => {
    expect(parseAssumptionData("as:42:budget")).toBeUndefined();
    expect(parseAssumptionData("as:x:context")).toBeUndefined();
  });
});
