export * from "./envelope.ts";
export * from "./rules.ts";
