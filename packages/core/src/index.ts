export * from "./clock.ts";
export * from "./domain-events.ts";
export * from "./image-ref.ts";
