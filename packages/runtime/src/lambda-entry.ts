import { type GantryConfigInput, parseGantryConfig } from "@gantry/core";
import { type AppContext, buildAppContext } from "./composition-root.ts";
import { createGantryHandlers } from "./gantry-handlers.ts";
import { loadRuntimeConfig } from "./runtime-config.ts";

/**
 * The handlers as deployed: gantry.config.ts is bundled into each function and validated at cold
 * start together with the environment. The clients every event needs are built at import (cold start)
 * and reused; the ones only some paths need load on first use (composition-root.ts).
 */
export function lambdaHandlers(configInput: GantryConfigInput) {
  const config = parseGantryConfig(configInput);
  let context: AppContext | undefined;
  return createGantryHandlers(() => {
    context ??= buildAppContext(loadRuntimeConfig(), config);
    return context;
  });
}
