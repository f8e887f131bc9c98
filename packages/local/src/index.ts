export * from "./apprunner-emulator.ts";
export * from "./apprunner-events.ts";
export * from "./apprunner-faults.ts";
export type { OperationStatus, OperationType, ServiceStatus } from "./apprunner-service.ts";
export * from "./aws-emulator-server.ts";
export * from "./aws-model.ts";
export * from "./ecr-emulator.ts";
export * from "./virtual-clock.ts";
