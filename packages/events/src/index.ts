export * from "./aws-event-builders.ts";
export * from "./aws-event-mappers.ts";
export * from "./aws-event-schemas.ts";
export * from "./envelope.ts";
export * from "./event-contract-error.ts";
export * from "./event-pattern.ts";
export * from "./rules.ts";
