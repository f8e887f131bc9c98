/**
 * Counts the commands a client sends (an `initialize`-step middleware, so a command the SDK retries
 * counts once, as one call of the budget). The reconciler reads it to stay within the App Runner
 * calls its run may make.
 */
export function countCommands(client: {
  middlewareStack: { add: (middleware: never, options: { step: "initialize"; name: string }) => void };
}): () => number {
  let sent = 0;
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    sent += 1;
    return next(args);
  };
  client.middlewareStack.add(middleware as never, { step: "initialize", name: "gantryCommandCounter" });
  return () => sent;
}
