/** A source of randomness, so jitter is deterministic in tests and the sandbox. */
export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
}

export const mathRandom: RandomSource = { next: () => Math.random() };

/** A seeded PRNG (mulberry32): same seed, same jitter, same replay. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let value = state;
      value = Math.imul(value ^ (value >>> 15), value | 1);
      value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
      return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export interface BackoffPolicy {
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

/** The ceiling for attempt n (1-based): base · 2^(n-1), capped. */
export function backoffCeilingSeconds(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** (attempt - 1));
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * a uniform delay between 0 and the attempt's ceiling, never below one second.
 */
export function fullJitterDelaySeconds(policy: BackoffPolicy, attempt: number, random: RandomSource): number {
  return Math.max(1, Math.floor(random.next() * backoffCeilingSeconds(policy, attempt)));
}
