/**
 * A port whose adapter, and the AWS SDK client behind it, load on the first call. A function that
 * never needs the port (the retry function never reads CloudWatch Logs) never pays to import that
 * client: deployed with esbuild code splitting (`infra/functions.ts`), a dynamic `import()` is a
 * separate chunk, read from disk only when it runs.
 *
 * Every method of a port is async, so a call can wait for the load. A failed load is not cached:
 * the next call (the platform's retry) loads again.
 */
export function lazyPort<Port extends object>(load: () => Promise<Port>): Port {
  let loading: Promise<Port> | undefined;
  const loaded = () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return new Proxy({} as Port, {
    get(_target, method) {
      // Not a thenable (`await port` must not call a method), and no symbol-keyed methods.
      if (typeof method === "symbol" || method === "then") return undefined;
      return async (...args: unknown[]) => {
        const port = (await loaded()) as Record<string, unknown>;
        const fn = port[method];
        if (typeof fn !== "function") throw new TypeError(`the port has no method ${method}`);
        return fn.apply(port, args);
      };
    },
  });
}
