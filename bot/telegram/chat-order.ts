/**
 * One turn at a time per chat, so messages arrive in the order a person can follow: while an update
 * is being answered (acknowledgement + first question, or an answer + what comes next) a finished
 * draft waits, and while a draft's parts are being sent nothing lands between them.
 * A turn that hangs is not waited on forever (`maxWaitMs`): order is a courtesy, delivery is not.
 */
export class ChatOrder {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly maxWaitMs: number;

  constructor(maxWaitMs = 15_000) {
    this.maxWaitMs = maxWaitMs;
  }

  async turn<T>(chatId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(chatId) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(chatId, tail);
    await waitAtMost(previous, this.maxWaitMs);
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(chatId) === tail) this.tails.delete(chatId);
    }
  }
}

function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
