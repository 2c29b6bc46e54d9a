import type { Bot } from "grammy";
import type { HermesContext } from "./config.ts";
import type { CommandDeps } from "./deps.ts";
import { installSystemCommands } from "./system.ts";
import { installThreadCommands } from "./threads.ts";
import { installUserDataCommands } from "./user-data.ts";

export type { CommandDeps } from "./deps.ts";

/**
 * Every slash command and the buttons that belong to them, one family per file: a user's ideas
 * and threads (threads.ts), Hermes itself (system.ts) and a user's own data
 * (user-data.ts). Each command name is handled by exactly one family, so the order in
 * which the families are installed does not matter.
 */
export function installCommands(bot: Bot<HermesContext>, d: CommandDeps): void {
  installThreadCommands(bot, d);
  installSystemCommands(bot, d);
  installUserDataCommands(bot, d);
}
