export * from "./app-runner-adapter.ts";
export * from "./cloudwatch-logs-adapter.ts";
export * from "./dynamodb-ledger.ts";
export * from "./eventbridge-scheduler-adapter.ts";
export * from "./ledger-tables.ts";
export * from "./scan-findings-adapter.ts";
export * from "./sns-notifier.ts";
