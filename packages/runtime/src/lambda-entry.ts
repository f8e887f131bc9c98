import { type GantryConfigInput, parseGantryConfig } from "@gantry/core";
import { type AppContext, buildAppContext } from "./composition-root.ts";
import { createGantryHandlers } from "./gantry-handlers.ts";
import { loadRuntimeConfig } from "./runtime-config.ts";

/**
 * The handlers as deployed: gantry.config.ts is bundled into each function and validated at cold
 * start together with the environment; the clients are built at import (cold start) and reused.
 */
export function lambdaHandlers(configInput: GantryConfigInput) {
  const config = parseGantryConfig(configInput);
  let context: AppContext | undefined;
  return createGantryHandlers(() => {
    context ??= buildAppContext(loadRuntimeConfig(), config);
    return context;
  });
}
