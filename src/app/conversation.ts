import type { BackendManager } from "../backends/manager/manager.ts";
import { ConversationFlow } from "../engine/conversation/flow.ts";
import { Engine } from "../engine/engine.ts";
import { PromptLibrary } from "../engine/prompts.ts";
import { RateLimiter } from "../engine/rate-limiter.ts";
import { ThreadService } from "../engine/threads/service.ts";
import { readAssumptions } from "../engine/understanding/assumptions.ts";
import { modelTypedJudge } from "../engine/understanding/typed-judge.ts";
import {
  modelAssistsOn,
  UnderstandingCounters,
  type UnderstandRequest,
  understandIdea,
} from "../engine/understanding/understand.ts";
import { configuredRandom } from "../learning/random.ts";
import { IntakeRepo } from "../store/threads/intake-repo.ts";
import { ThreadsRepo } from "../store/threads/repo.ts";
import { TelegramMessagesRepo } from "../store/threads/telegram-messages-repo.ts";
import { TelegramOutboxRepo } from "../store/threads/telegram-outbox-repo.ts";
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
  /** How the model-assisted analyses of ideas ended (GET /metrics). */
  understanding: UnderstandingCounters;
  /** How the model-assisted "answer or new idea?" calls ended (GET /metrics). */
  typedJudge: UnderstandingCounters;
  /** How the readings of draft 1's assumptions ended (GET /metrics). */
  draftAssumptions: UnderstandingCounters;
}

/** The Engine, the question flow (questions, answers, draft 2, feedback, learning) and the thread services. */
export function createConversation(
  f: Foundation,
  options: Pick<HermesOptions, "random" | "questions" | "threadPorts">,
  { queue, events }: JobsPart,
  backends: BackendManager,
  writeBehind: { flush(): void },
): ConversationPart {
  const { database, config, clock, log } = f;
  const threads = new ThreadsRepo(database.db);
  const prompts = new PromptLibrary();
  const model = modelAssists(f, backends);
  const flow = new ConversationFlow({
    db: database.db,
    sqlite: database.sqlite,
    queue,
    config,
    clock,
    // The configured seed makes a run repeatable; 0 (the default) keeps a fresh one per start.
    random: options.random ?? configuredRandom(config.number("hermes.learning.random_seed"), Math.random),
    prompts,
    understand: model.understand,
    readAssumptions: model.readAssumptions,
    ...options.questions,
  });
  const engine = new Engine({
    threads,
    intake: new IntakeRepo(database.sqlite),
    storage: f.storage,
    queue,
    queueEvents: events,
    backends,
    config,
    prompts,
    conversation: flow,
    insights: flow,
    outbox: new TelegramOutboxRepo(database.sqlite),
    clock,
    rateLimiter: new RateLimiter(
      () => config.number("hermes.web.ideas_per_minute"),
      60_000,
      () => clock.now(),
    ),
    log,
  });
  confirmAssumptionsOfDraftOne(engine, flow, f, model.counters.draftAssumptions);
  const threadService = new ThreadService({
    db: database.db,
    threads,
    queue,
    config,
    clock,
    ideas: engine,
    conversation: flow,
    messageLinks: new TelegramMessagesRepo(database.sqlite),
    userData: new UserDataRepo(database.sqlite, writeBehind),
    judgeTypedText: model.judgeTypedText,
    ...options.threadPorts,
  });
  return { threads, flow, engine, threadService, ...model.counters };
}

/** Draft 1's assumptions become confirmations beside the delivery of the draft, never before it. */
function confirmAssumptionsOfDraftOne(
  engine: Engine,
  flow: ConversationFlow,
  { config, log }: Foundation,
  counters: UnderstandingCounters,
): void {
  engine.onEvent((e) => {
    if (e.draft?.draftNumber !== 1) return;
    // With the model's help off the reading would be declined, after two reads of the thread.
    if (!modelAssistsOn(config)) return counters.record("disabled");
    flow.noteDraftAssumptions(e.thread.id, e.draft.text, e.event.job).catch((err: unknown) => {
      log.warn({ err: String(err), threadId: e.thread.id }, "could not read draft 1's assumptions");
    });
  });
}

/**
 * The model's help with understanding (src/engine/understanding/): the analysis of a new idea,
 * draft 1's assumptions, and "answer or new idea?" — each a structured call under the analysis
 * deadline, each with its outcome counters.
 */
function modelAssists(f: Foundation, backends: BackendManager) {
  const { config, clock, log } = f;
  const deps = (counters: UnderstandingCounters) => ({ backends, config, clock, counters, log });
  const understanding = new UnderstandingCounters();
  const typedJudge = new UnderstandingCounters();
  const draftAssumptions = new UnderstandingCounters();
  const assumptions = deps(draftAssumptions);
  return {
    counters: { understanding, typedJudge, draftAssumptions },
    understand: (req: UnderstandRequest) => understandIdea(deps(understanding), req),
    readAssumptions: (req: Parameters<typeof readAssumptions>[1]) => readAssumptions(assumptions, req),
    judgeTypedText: modelTypedJudge(deps(typedJudge)),
  };
}
