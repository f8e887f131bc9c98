import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { AppRunnerClient } from "@aws-sdk/client-apprunner";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECRClient } from "@aws-sdk/client-ecr";
import { Inspector2Client } from "@aws-sdk/client-inspector2";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  AppRunnerAdapter,
  CloudWatchLogsAdapter,
  DynamoDbLedger,
  EventBridgeSchedulerAdapter,
  limitRate,
  ScanFindingsAdapter,
  SnsNotifier,
  TokenBucket,
} from "@gantry/aws";
import {
  type Clock,
  type GantryConfig,
  type GantryDeps,
  mathRandom,
  type NotifierPort,
  type RandomSource,
  type SchedulerPort,
  systemClock,
} from "@gantry/core";
import { classifyError } from "./error-classifier.ts";
import type { RuntimeConfig } from "./runtime-config.ts";

/** Everything a handler needs, built once per cold start. */
export interface AppContext {
  deps: GantryDeps;
  notifier: NotifierPort;
  idempotencyStore: DynamoDBPersistenceLayer;
  /** Lets the sandbox watch what each invocation did; unset in Lambda. */
  observe?: (functionName: string, effects: import("@gantry/core").Effect[]) => void;
}

export interface BuildOptions {
  clock?: Clock;
  /** Static credentials for local endpoints (emulators accept any); Lambda uses its role. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  observe?: AppContext["observe"];
  /** SDK attempts; the sandbox lowers it so injected throttling reaches the handler's classifier. */
  maxAttempts?: number;
  /** The sandbox schedules retries on its virtual clock instead of EventBridge Scheduler. */
  scheduler?: SchedulerPort;
  random?: RandomSource;
}

/** Without a configured retry target, a retry cannot be made durable: say so instead of losing it. */
const unconfiguredScheduler: SchedulerPort = {
  async scheduleRetry() {
    throw new Error(
      "cannot schedule a retry: GANTRY_RETRY_FUNCTION_ARN, GANTRY_RETRY_ROLE_ARN and GANTRY_RETRY_SCHEDULE_GROUP are not set",
    );
  },
};

/**
 * The composition root: the only place that knows which adapter implements which port. Endpoint
 * overrides come from the validated runtime config (the sandbox points them at the emulators).
 */
export function buildAppContext(
  runtime: RuntimeConfig,
  config: GantryConfig,
  options: BuildOptions = {},
): AppContext {
  const clock = options.clock ?? systemClock;
  const base = {
    region: runtime.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  };
  const at = (endpoint: string | undefined) => (endpoint ? { ...base, endpoint } : base);
  const dynamodb = new DynamoDBClient(at(runtime.endpoints.dynamodb));
  const appRunnerClient = new AppRunnerClient(at(runtime.endpoints.apprunner));
  limitRate(appRunnerClient, new TokenBucket(runtime.appRunnerMaxRps, runtime.appRunnerMaxRps * 2));
  return {
    deps: {
      config,
      clock,
      random: options.random ?? mathRandom,
      isTransient: (error) => classifyError(error).kind === "retry",
      logs: new CloudWatchLogsAdapter(new CloudWatchLogsClient(at(runtime.endpoints.logs))),
      scheduler:
        options.scheduler ??
        (runtime.retryScheduler
          ? new EventBridgeSchedulerAdapter(
              new SchedulerClient(at(runtime.endpoints.scheduler)),
              runtime.retryScheduler,
            )
          : unconfiguredScheduler),
      appRunner: new AppRunnerAdapter(appRunnerClient, clock),
      ledger: new DynamoDbLedger(dynamodb, runtime.ledgerTable),
      findings: new ScanFindingsAdapter(
        new ECRClient(at(runtime.endpoints.ecr)),
        new Inspector2Client(at(runtime.endpoints.inspector)),
      ),
    },
    notifier: new SnsNotifier(new SNSClient(at(runtime.endpoints.sns)), runtime.topicArn),
    idempotencyStore: new DynamoDBPersistenceLayer({
      tableName: runtime.idempotencyTable,
      awsSdkV3Client: dynamodb,
    }),
    ...(options.observe ? { observe: options.observe } : {}),
  };
}
