import type { ReconcileBudget } from "@gantry/core";

/** Kept in hand at the end of a run: the service in progress finishes, effects are published. */
const MIN_MARGIN_MS = 15_000;
const MARGIN_SHARE = 0.1;

/**
 * One reconciler run's budget, derived from what is left of the Lambda's timeout when it starts
 * (`context.getRemainingTimeInMillis()`, so it follows `infra/functions.ts`) and from the App Runner
 * rate this instance allows itself (`GANTRY_APPRUNNER_MAX_RPS`, the token bucket): the calls that
 * rate fits in the usable time. The run stops starting services once either is spent; the next run
 * continues where it stopped.
 */
export function reconcileBudget(
  usage: { calls: () => number; maxRps: number },
  remainingMs: () => number,
): ReconcileBudget {
  const atStart = remainingMs();
  const marginMs = Math.max(MIN_MARGIN_MS, atStart * MARGIN_SHARE);
  const usableMs = Math.max(0, atStart - marginMs);
  return {
    appRunnerCalls: usage.calls,
    maxAppRunnerCalls: Math.floor((usage.maxRps * usableMs) / 1000),
    timeLeftMs: () => remainingMs() - marginMs,
  };
}
