/**
 * Lambda's asynchronous invocation (how EventBridge rules and EventBridge Scheduler invoke Gantry's
 * functions): a function error is retried twice, after about 1 and 2 minutes, then the invocation
 * goes to the function's on-failure destination (FACTS §6).
 */
export const ASYNC_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
