import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { AppRunnerClient } from "@aws-sdk/client-apprunner";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  AppRunnerAdapter,
  countCommands,
  DynamoDbLedger,
  limitRate,
  type ManagedTagsPort,
  SnsNotifier,
  TokenBucket,
} from "@gantry/aws";
import {
  type Clock,
  type GantryConfig,
  type GantryDeps,
  type LogsPort,
  mathRandom,
  type NotifierPort,
  type RandomSource,
  type ScanFindingsPort,
  type SchedulerPort,
  systemClock,
} from "@gantry/core";
import { classifyError } from "./error-classifier.ts";
import { lazyPort } from "./lazy-port.ts";
import type { RuntimeConfig } from "./runtime-config.ts";

/** Everything a handler needs, built once per cold start. */
export interface AppContext {
  deps: GantryDeps;
  notifier: NotifierPort;
  idempotencyStore: DynamoDBPersistenceLayer;
  /** App Runner calls this instance has sent, and the rate it allows itself: the reconciler's budget. */
  appRunnerUsage: { calls: () => number; maxRps: number };
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
 * The clients every event needs (DynamoDB, App Runner, SNS) are built here, at cold start; those
 * only some paths need (ECR and Inspector2 findings, CloudWatch Logs, EventBridge Scheduler) load
 * on their first call (`lazyPort`), so a function that never takes that path never imports them.
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
  const appRunnerCalls = countCommands(appRunnerClient);
  const ledger = new DynamoDbLedger(dynamodb, runtime.ledgerTable);
  return {
    deps: {
      config,
      clock,
      random: options.random ?? mathRandom,
      isTransient: (error) => classifyError(error).kind === "retry",
      logs: lazyPort<LogsPort>(async () =>
        (await import("./clients/logs.ts")).buildLogsPort(at(runtime.endpoints.logs), clock),
      ),
      scheduler: options.scheduler ?? retryScheduler(runtime, at(runtime.endpoints.scheduler)),
      // Discovery keeps its fleet index in the ledger and asks the tagging API which services are managed.
      appRunner: new AppRunnerAdapter(appRunnerClient, clock, undefined, runtime.passableRoleArns, {
        index: ledger,
        ...managedTags(runtime, at(runtime.endpoints.tagging)),
      }),
      ledger,
      findings: lazyPort<ScanFindingsPort>(async () =>
        (await import("./clients/scan-findings.ts")).buildScanFindingsPort(
          at(runtime.endpoints.ecr),
          at(runtime.endpoints.inspector),
        ),
      ),
    },
    notifier: new SnsNotifier(new SNSClient(at(runtime.endpoints.sns)), runtime.topicArn),
    appRunnerUsage: { calls: appRunnerCalls, maxRps: runtime.appRunnerMaxRps },
    idempotencyStore: new DynamoDBPersistenceLayer({
      tableName: runtime.idempotencyTable,
      awsSdkV3Client: dynamodb,
    }),
    ...(options.observe ? { observe: options.observe } : {}),
  };
}

/**
 * The tagging API, loaded on a discovery walk's first call. Where App Runner is an emulator
 * (endpoint override) and no tagging endpoint is given, there is no tagging API to ask: discovery
 * reads each service's tags from App Runner instead, as it would without the tagging API.
 */
function managedTags(
  runtime: RuntimeConfig,
  clientConfig: { region: string },
): { managedTags?: ManagedTagsPort } {
  if (runtime.endpoints.apprunner && !runtime.endpoints.tagging) return {};
  return {
    managedTags: lazyPort<ManagedTagsPort>(async () =>
      (await import("./clients/managed-tags.ts")).buildManagedTagsPort(clientConfig),
    ),
  };
}

function retryScheduler(runtime: RuntimeConfig, clientConfig: { region: string }): SchedulerPort {
  const target = runtime.retryScheduler;
  if (!target) return unconfiguredScheduler;
  return lazyPort<SchedulerPort>(async () =>
    (await import("./clients/scheduler.ts")).buildSchedulerPort(clientConfig, target),
  );
}
