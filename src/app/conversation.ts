import type { BackendManager } from "../backends/manager/manager.ts";
import { ConversationFlow } from "../engine/conversation/flow.ts";
import { Engine } from "../engine/engine.ts";
import { PromptLibrary } from "../engine/prompts.ts";
import { RateLimiter } from "../engine/rate-limiter.ts";
import { ThreadService } from "../engine/threads/service.ts";
import { configuredRandom } from "../learning/random.ts";
import { ThreadsRepo } from "../store/threads/repo.ts";
import { TelegramMessagesRepo } from "../store/threads/telegram-messages-repo.ts";
import { UserDataRepo } from "../store/threads/user-data-repo.ts";
import type { Foundation } from "./foundation.ts";
import type { JobsPart } from "./jobs.ts";
import type { HermesOptions } from "./options.ts";

export interface ConversationPart {
  threads: ThreadsRepo;
  flow: ConversationFlow;
  engine: Engine;
  /** The one thread service every transport calls (HTTP, Telegram, the terminal chat). */
  threadService: ThreadService;
}

/** The Engine, the question flow (questions, answers, draft 2, feedback, learning) and the thread services. */
export function createConversation(
  f: Foundation,
  options: Pick<HermesOptions, "random" | "questions" | "threadPorts">,
  { queue, events }: JobsPart,
  backends: BackendManager,
): ConversationPart {
  const { database, config, clock, log } = f;
  const threads = new ThreadsRepo(database.db);
  const prompts = new PromptLibrary();
  const flow = new ConversationFlow({
    db: database.db,
    queue,
    config,
    clock,
    // The configured seed makes a run repeatable; 0 (the default) keeps a fresh one per start.
    random: options.random ?? configuredRandom(config.number("hermes.learning.random_seed"), Math.random),
    prompts,
    ...options.questions,
  });
  const engine = new Engine({
    threads,
    queue,
    queueEvents: events,
    backends,
    config,
    prompts,
    conversation: flow,
    insights: flow,
    clock,
    rateLimiter: new RateLimiter(
      () => config.number("hermes.web.ideas_per_minute"),
      60_000,
      () => clock.now(),
    ),
    log,
  });
  const threadService = new ThreadService({
    db: database.db,
    threads,
    queue,
    config,
    clock,
    ideas: engine,
    conversation: flow,
    messageLinks: new TelegramMessagesRepo(database.sqlite),
    userData: new UserDataRepo(database.sqlite),
    ...options.threadPorts,
  });
  return { threads, flow, engine, threadService };
}
