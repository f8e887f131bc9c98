import { isAbortError } from "./errors.ts";

export interface RetryPolicy {
  /** Further attempts after the first. */
  retries: number;
  /** First delay; each retry doubles it (full jitter), up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseDelayMs: 500, maxDelayMs: 20_000 };

/** "Full jitter": a random delay up to the exponential bound, so retrying clients spread out. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs `attempt` until it succeeds, `shouldRetry` says no, or the retries are spent. */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (attemptNumber: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  options: { signal?: AbortSignal; onRetry?: (error: unknown, attemptNumber: number) => void } = {},
): Promise<T> {
  for (let attemptNumber = 0; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (isAbortError(error) || options.signal?.aborted) throw error;
      if (attemptNumber >= policy.retries || !shouldRetry(error)) throw error;
      options.onRetry?.(error, attemptNumber);
      await sleep(backoffDelay(policy, attemptNumber), options.signal);
    }
  }
}
