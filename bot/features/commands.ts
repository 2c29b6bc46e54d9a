/** The commands that exist, for /help and setMyCommands. */
export const COMMANDS: { command: string; description: string; ownerOnly?: boolean }[] = [
  { command: "start", description: "What Hermes is and how to use it" },
  { command: "help", description: "List the commands" },
  { command: "new", description: "Start a new idea (even while a question is open)" },
  { command: "validate", description: "Draft an idea on several backends and check they agree" },
  { command: "status", description: "What is queued and running, with cancel buttons" },
  { command: "threads", description: "Your recent ideas" },
  { command: "thread", description: "One idea in full: answers, drafts, result as a file" },
  { command: "cancel", description: "Cancel the idea you last worked on (or /cancel <id>)" },
  { command: "health", description: "Backends and their state" },
  { command: "budget", description: "Spend today and the limits" },
  { command: "backends", description: "List backends; enable or disable one", ownerOnly: true },
  { command: "config", description: "Show or change a setting", ownerOnly: true },
  { command: "patterns", description: "What Hermes has learned" },
  { command: "export", description: "All your data as a file" },
  { command: "forget", description: "Delete all your data (asks first)" },
];

export function helpText(isOwner = true): string {
  return [
    "Hermes turns a rough idea into a useful draft.",
    "",
    "Send me an idea in plain words — one line is enough. I start a first draft at once and, while it runs, ask a few quick questions (tap an answer, type your own, or say “Enough”). Then I send a refined draft. Rate drafts with the buttons under them so I learn what you like.",
    "",
    "Reply to any message of an idea to add to it. If the model machine is down, your idea waits in the queue and runs when it's back.",
    "",
    "Commands:",
    ...COMMANDS.filter((c) => isOwner || !c.ownerOnly).map((c) => `/${c.command} — ${c.description}`),
  ].join("\n");
}
