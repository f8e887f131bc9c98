export * from "./jwt-authorizer.ts";
export * from "./upload-completed-handler.ts";
export * from "./upload-linked-secrets.ts";
export * from "./upload-presign-handler.ts";
export * from "./upload-runtime-config.ts";
export * from "./upload-session-seal.ts";
