import type { TimerClock } from "./virtual-clock.ts";

/**
 * Lambda's asynchronous invocation (how EventBridge rules and EventBridge Scheduler invoke Gantry's
 * functions): a function error is retried twice, after about 1 and 2 minutes, then the invocation
 * goes to the function's on-failure destination (FACTS §6).
 */
const ASYNC_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

export interface AsyncInvocation {
  /** Names the timer; `attempt` is 1 for the first invocation. */
  label: (attempt: number) => string;
  invoke: () => Promise<unknown>;
  /** After every attempt: `error` is set when it failed. */
  attempted?: (attempt: number, error?: string) => void;
  /** The last attempt failed too: where the on-failure destination would receive it. */
  deadLetter: (attempts: number, error: string) => void;
}

/** Invokes on the sandbox clock after `delayMs`, with Lambda's retries; a failure never rejects the clock. */
export function invokeAsync(
  clock: TimerClock,
  delayMs: number,
  invocation: AsyncInvocation,
  attempt = 1,
): void {
  clock.schedule(
    delayMs,
    async () => {
      try {
        await invocation.invoke();
        invocation.attempted?.(attempt);
      } catch (error) {
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        invocation.attempted?.(attempt, reason);
        const retryDelay = ASYNC_RETRY_DELAYS_MS[attempt - 1];
        if (retryDelay === undefined) invocation.deadLetter(attempt, reason);
        else invokeAsync(clock, retryDelay, invocation, attempt + 1);
      }
    },
    invocation.label(attempt),
  );
}
