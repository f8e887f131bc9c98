import { LedgerConflictError } from "../ports.ts";

/**
 * Optimistic concurrency: a use case reads, decides and commits conditionally; when another
 * handler won the race it reads again and decides again. Bounded so a hot key cannot spin forever
 * (the error then reaches the platform, which retries the event later).
 */
export async function withConflictRetry<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof LedgerConflictError) || attempt >= attempts) throw error;
    }
  }
}
