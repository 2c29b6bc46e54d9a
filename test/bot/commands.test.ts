import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMANDS, commandsFor, GUEST_COMMANDS, helpText, welcomeText } from "../../bot/features/commands.ts";

/** The commands the features register: `composer.command("x"` or `composer.command(["x", "y"]`. */
function registeredCommands(): string[] {
  const dir = "bot/features";
  const text = readdirSync(dir)
    .map((f) => readFileSync(`${dir}/${f}`, "utf8"))
    .join("\n");
  return [...text.matchAll(/\.command\((\[[^\]]*\]|"[^"]+")/g)].flatMap((m) =>
    [...(m[1] ?? "").matchAll(/"([^"]+)"/g)].map((n) => n[1] ?? ""),
  );
}

describe("the command list behind /help, the menus and the guest gate", () => {
  it("names every command a feature handles, once", () => {
    const listed = COMMANDS.map((c) => c.command);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...new Set(registeredCommands())].sort()).toEqual([...listed].sort());
  });

  it("guests get no owner-only (admin) command, and only guest commands in /help and the menu", () => {
    for (const c of COMMANDS.filter((x) => x.group === "admin"))
      expect(GUEST_COMMANDS.has(c.command)).toBe(false);
    expect(commandsFor(false).every((c) => GUEST_COMMANDS.has(c.command))).toBe(true);
    const help = helpText(false);
    for (const c of COMMANDS.filter((x) => !GUEST_COMMANDS.has(x.command))) {
      expect(help).not.toMatch(new RegExp(`/${c.command}\\b`));
    }
    for (const c of COMMANDS) expect(helpText(true)).toMatch(new RegExp(`/${c.command} — `));
  });

  it("the welcome is short and lists no commands but /help", () => {
    for (const owner of [true, false]) {
      const text = welcomeText(owner, 3);
      expect(text.length).toBeLessThan(800);
      expect(text.match(/\/\w+/g)).toEqual(["/help"]);
    }
  });
});
