export * from "./composition-root.ts";
export * from "./error-classifier.ts";
export * from "./gantry-handlers.ts";
export * from "./handler.ts";
export * from "./lambda-entry.ts";
export * from "./observability.ts";
export * from "./runtime-config.ts";
