export * from "./upload-config.ts";
export * from "./upload-events.ts";
export * from "./upload-limits.ts";
export * from "./upload-policy.ts";
export * from "./upload-ports.ts";
export * from "./upload-requests.ts";
export * from "./upload-use-cases.ts";
