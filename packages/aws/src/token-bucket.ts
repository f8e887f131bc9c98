/**
 * A token bucket: at most `burst` calls at once, refilled at `perSecond`. App Runner publishes no
 * API rate limits (FACTS §3), so Gantry keeps its own calls under a configurable rate rather than
 * discovering the limit through throttling in the middle of a push burst.
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new Error("TokenBucket needs perSecond > 0 and burst >= 1");
    this.#tokens = burst;
    this.#updatedAt = now();
  }

  /** Resolves when a call may go; callers are served in order. */
  take(): Promise<void> {
    const turn = this.#queue.then(() => this.#takeOne());
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #takeOne(): Promise<void> {
    this.#refill();
    if (this.#tokens < 1) {
      await this.sleep(((1 - this.#tokens) / this.perSecond) * 1000);
      this.#refill();
    }
    this.#tokens -= 1;
  }

  #refill(): void {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.perSecond);
    this.#updatedAt = now;
  }
}

/** Every command the client sends waits for a token first (an `initialize`-step middleware). */
export function limitRate(
  client: {
    middlewareStack: { add: (middleware: never, options: { step: "initialize"; name: string }) => void };
  },
  bucket: TokenBucket,
): void {
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    await bucket.take();
    return next(args);
  };
  client.middlewareStack.add(middleware as never, { step: "initialize", name: "gantryRateLimit" });
}
