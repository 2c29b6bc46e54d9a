/** The commands that exist, for /help and setMyCommands. Grows with the product. */
export const COMMANDS: { command: string; description: string }[] = [
  { command: "start", description: "What Hermes is and how to use it" },
  { command: "help", description: "List the commands" },
  { command: "status", description: "What is queued and running, with cancel buttons" },
  { command: "threads", description: "Your recent ideas" },
  { command: "cancel", description: "Cancel the running work of your latest idea" },
  { command: "health", description: "Backends and their state" },
];

export function helpText(): string {
  return [
    "Hermes turns a rough idea into a useful draft.",
    "",
    "Send me an idea in plain words — one line is enough. I start a first draft at once on the best available model and send it when it's ready. If the model machine is down, your idea waits in the queue and runs when it's back; you don't need to resend it.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `/${c.command} — ${c.description}`),
  ].join("\n");
}
