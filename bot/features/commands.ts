/**
 * The commands that exist: for /help, the command menus (setMyCommands) and the access gate.
 * `guest`: a guest in limited mode may use it; every other command is the owner's alone.
 */
export type CommandGroup = "ideas" | "feedback" | "data" | "admin";

export interface CommandInfo {
  command: string;
  description: string;
  group: CommandGroup;
  guest?: boolean;
}

export const COMMANDS: readonly CommandInfo[] = [
  {
    command: "new",
    description: "Start a new idea (even while a question is open)",
    group: "ideas",
    guest: true,
  },
  {
    command: "status",
    description: "What is queued and running, with cancel buttons",
    group: "ideas",
    guest: true,
  },
  { command: "threads", description: "Your recent ideas", group: "ideas", guest: true },
  {
    command: "thread",
    description: "One idea in full: answers, drafts, result as a file",
    group: "ideas",
    guest: true,
  },
  {
    command: "cancel",
    description: "Cancel the idea you last worked on (or /cancel <id>)",
    group: "ideas",
    guest: true,
  },
  {
    command: "validate",
    description: "Draft an idea on several backends and check they agree",
    group: "ideas",
  },
  {
    command: "patterns",
    description: "What Hermes has learned from your ratings and answers",
    group: "feedback",
  },
  { command: "export", description: "All your data as a file", group: "data", guest: true },
  { command: "forget", description: "Delete all your data (asks first)", group: "data", guest: true },
  { command: "health", description: "Backends and the queue", group: "admin" },
  { command: "budget", description: "Spend today and the limits", group: "admin" },
  { command: "backends", description: "List backends; enable or disable one", group: "admin" },
  { command: "config", description: "Browse or change the settings", group: "admin" },
  { command: "start", description: "What Hermes does, with an example", group: "ideas", guest: true },
  { command: "help", description: "The commands, grouped", group: "ideas", guest: true },
];

/** What a guest in limited mode may use (the access gate refuses the rest). */
export const GUEST_COMMANDS: ReadonlySet<string> = new Set(
  COMMANDS.filter((c) => c.guest).map((c) => c.command),
);

/** The commands one person sees in the menu and in /help. */
export function commandsFor(isOwner: boolean): CommandInfo[] {
  return COMMANDS.filter((c) => isOwner || c.guest === true);
}

/** An example any newcomer can send as is. */
export const EXAMPLE_IDEA = "A weekend workshop that teaches teenagers to repair their own bikes";

/**
 * The first message: what Hermes does, one idea to try, and what will happen — true to the flow
 * (a first draft starts at once; questions, if any, come as buttons while it runs; a refined draft
 * follows).
 */
export function welcomeText(isOwner: boolean, guestQuota?: number): string {
  return [
    "👋 Hi, I'm Hermes. I turn a rough idea into a useful draft.",
    "",
    "Send me an idea in plain words — one line is enough. For example:",
    `“${EXAMPLE_IDEA}”`,
    "",
    "What happens next:",
    "1. I start a first draft at once.",
    "2. While it runs, I may ask a few quick questions with answer buttons. Tap one, type your own answer, or tap “Enough” to skip the rest.",
    "3. With your answers I send a refined draft. Rate it with the stars under it so I learn what you like.",
    "",
    !isOwner && guestQuota !== undefined
      ? `As a guest you may send ${guestQuota} idea(s) a day; they run on local models.`
      : "",
    "/help lists everything I can do.",
  ]
    .filter((l, i, all) => l !== "" || all[i - 1] !== "")
    .join("\n");
}

const GROUP_TITLES: Record<CommandGroup, string> = {
  ideas: "💡 Ideas and threads",
  feedback: "⭐ Feedback",
  data: "🗂 Your data",
  admin: "🔧 Owner only",
};

/** /help: the commands grouped; a guest sees only the commands a guest may use. */
export function helpText(isOwner: boolean): string {
  const mine = commandsFor(isOwner);
  const group = (g: CommandGroup) =>
    mine.filter((c) => c.group === g).map((c) => `/${c.command} — ${c.description}`);
  const sections: string[][] = [
    ["Send any idea in plain words to start. Reply to any message of an idea to add to it."],
    [GROUP_TITLES.ideas, ...group("ideas")],
    [
      GROUP_TITLES.feedback,
      "Rate a draft with the stars under it; “Shorter” and “More detail” ask for a new version.",
      ...group("feedback"),
    ],
    [GROUP_TITLES.data, ...group("data")],
  ];
  if (isOwner) sections.push([GROUP_TITLES.admin, ...group("admin")]);
  return sections.map((s) => s.join("\n")).join("\n\n");
}
