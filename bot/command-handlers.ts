import type { Bot } from "grammy";
import type { CommandDeps } from "./command-deps.ts";
import { installSystemCommands } from "./command-system.ts";
import { installThreadCommands } from "./command-threads.ts";
import { installUserDataCommands } from "./command-user-data.ts";
import type { HermesContext } from "./config-conversation.ts";

export type { CommandDeps } from "./command-deps.ts";

/**
 * Every slash command and the buttons that belong to them, one family per file: a user's ideas
 * and threads (command-threads.ts), Hermes itself (command-system.ts) and a user's own data
 * (command-user-data.ts). Each command name is handled by exactly one family, so the order in
 * which the families are installed does not matter.
 */
export function installCommands(bot: Bot<HermesContext>, d: CommandDeps): void {
  installThreadCommands(bot, d);
  installSystemCommands(bot, d);
  installUserDataCommands(bot, d);
}
