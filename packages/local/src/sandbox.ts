import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createIdempotencyTable, createLedgerTable, DynamoDbLedger } from "@gantry/aws";
import { type Effect, type GantryConfig, parseGantryConfig, seededRandom } from "@gantry/core";
import {
  type EventBridgeEvent,
  ecrImagePushEvent,
  ecrImageScanEvent,
  gantryRules,
  inspectorScanEvent,
} from "@gantry/events";
import {
  buildAppContext,
  createGantryHandlers,
  localLambdaContext,
  parseRuntimeConfig,
  type RuntimeConfig,
} from "@gantry/runtime";
import { type AppRunnerDurations, AppRunnerEmulator } from "./apprunner-emulator.ts";
import type { FaultSpec } from "./apprunner-faults.ts";
import { AwsEmulatorServer } from "./aws-emulator-server.ts";
import { type DynamoDbLocal, localCredentials, startDynamoDbLocal } from "./dynamodb-local.ts";
import { EcrEmulator, type EcrFinding } from "./ecr-emulator.ts";
import { Inspector2Emulator } from "./inspector2-emulator.ts";
import { LocalBus } from "./local-bus.ts";
import { LocalScheduler } from "./local-scheduler.ts";
import { LocalSns } from "./local-sns.ts";
import { LogsEmulator } from "./logs-emulator.ts";
import { type SandboxSlack, type SandboxSlackOptions, startSandboxSlack } from "./sandbox-slack.ts";
import { TaggingEmulator } from "./tagging-emulator.ts";
import { VirtualClock } from "./virtual-clock.ts";

export interface SandboxOptions {
  config?: unknown;
  /** Reuse a running DynamoDB Local (tests share one); otherwise the sandbox starts its own. */
  dynamodbEndpoint?: string;
  start?: Date;
  accountId?: string;
  region?: string;
  /** Seeds the retry jitter: the same seed replays the same schedule. */
  seed?: number;
  /** Gantry's App Runner call rate limit (real time); production's default is 5 per second. */
  appRunnerMaxRps?: number;
  /** How long App Runner operations take on the sandbox clock (e.g. a very slow deployment). */
  appRunnerDurations?: Partial<AppRunnerDurations>;
  /** The Slack stand-in and the Slack functions (on unless `false`). */
  slack?: SandboxSlackOptions | false;
}

/** One line of what happened: an event on the bus, or an effect a handler produced. */
export type TimelineEntry =
  | { at: Date; source: string; effect: Effect; event?: undefined }
  | {
      at: Date;
      source: string;
      event: EventBridgeEvent;
      rules: string[];
      /** From another account or region: the sandbox's default bus never received it. */
      elsewhere?: true;
      effect?: undefined;
    };

export interface SandboxService {
  name: string;
  /**
   * Tag form (`repo:tag`) or digest form in the sandbox's ECR registry, or the full identifier
   * `<account>.dkr.ecr.<region>.amazonaws.com/repo:tag` of that same registry.
   */
  image: string;
  tags?: Record<string, string>;
  autoDeploy?: boolean;
  /**
   * Add `gantry:managed=true` to `tags` (default true: a test's service is Gantry's). Scenarios
   * pass false: their tags are taken as given, and a service without the tag is unmanaged.
   */
  addManagedTag?: boolean;
}

export interface SandboxImage {
  repository: string;
  digest: string;
  tags?: string[];
  findings?: { id: string; severity: EcrFinding["severity"] }[];
  scanStatus?: "COMPLETE" | "FAILED" | "UNSUPPORTED_IMAGE";
}

const RECONCILE_EVERY_MS = 5 * 60_000;
const CLOUDTRAIL_DELAY_MS = 3 * 60_000;
/** Longer than the pause grace (15 min), so the reconciler decides auto-resumes before a replay ends. */
const QUIET_WINDOW_MS = 20 * 60_000;
const OPERATION_FAULTS = new Set(["fail-rollback", "fail", "create-failed"]);
const OPEN_STATES = new Set(["awaiting-scan", "waiting", "deploying", "retrying"]);

/**
 * Gantry on one machine: the App Runner and ECR emulators, DynamoDB Local, a local SNS endpoint
 * and the in-process bus, wired to the same handlers and rules as production, on a virtual clock.
 */
export interface SandboxParts {
  timeline: TimelineEntry[];
  config: GantryConfig;
  clock: VirtualClock;
  appRunner: AppRunnerEmulator;
  /** The Resource Groups Tagging API discovery asks which services are managed. */
  tagging: TaggingEmulator;
  ecr: EcrEmulator;
  inspector: Inspector2Emulator;
  logs: LogsEmulator;
  scheduler: LocalScheduler;
  bus: LocalBus;
  sns: LocalSns;
  ledger: DynamoDbLedger;
  accountId: string;
  region: string;
  runtime: RuntimeConfig;
  faultLogs: FaultLogs;
  slack?: SandboxSlack;
  reconcile: () => Promise<unknown>;
  teardown: () => Promise<void>;
}

/** Log lines a failing operation writes, as App Runner would, so Gantry can diagnose the failure. */
export const DEFAULT_FAILURE_LOGS: Partial<Record<string, string[]>> = {
  "fail-rollback": [
    "[AppRunner] Deployment with ID : 0 started. Triggering event : SERVICE_UPDATE",
    "[AppRunner] Health check failed on protocol `HTTP`[Path: '/healthz'], [Port: '8080'].",
    "[AppRunner] Deployment failed. Rolling back to the previous version.",
  ],
  "create-failed": [
    "[AppRunner] Service creation started.",
    "[AppRunner] Health check failed on protocol `TCP` [Port: '8080']. Check your configured port number.",
    "[AppRunner] Your application stopped or failed to start. See logs for more information.",
  ],
};

/** Per service, the log lines each injected operation fault writes when its operation fails. */
export class FaultLogs {
  readonly #pending = new Map<string, string[][]>();

  add(serviceName: string, lines: string[], times: number): void {
    const queue = this.#pending.get(serviceName) ?? [];
    for (let index = 0; index < times; index++) queue.push(lines);
    this.#pending.set(serviceName, queue);
  }

  next(serviceName: string): string[] {
    return this.#pending.get(serviceName)?.shift() ?? [];
  }
}

export class Sandbox {
  readonly timeline: TimelineEntry[];
  readonly config: GantryConfig;
  readonly clock: VirtualClock;
  readonly appRunner: AppRunnerEmulator;
  readonly tagging: TaggingEmulator;
  readonly ecr: EcrEmulator;
  readonly inspector: Inspector2Emulator;
  readonly logs: LogsEmulator;
  readonly scheduler: LocalScheduler;
  readonly bus: LocalBus;
  readonly sns: LocalSns;
  readonly ledger: DynamoDbLedger;
  readonly accountId: string;
  readonly region: string;
  /** Endpoints and table names: what a CLI in another process needs to reach this sandbox. */
  readonly runtime: RuntimeConfig;
  /** The Slack stand-in, its conversation, and button presses (unset with `slack: false`). */
  readonly slack: SandboxSlack | undefined;
  readonly #parts: SandboxParts;

  private constructor(parts: SandboxParts) {
    this.#parts = parts;
    this.slack = parts.slack;
    ({
      timeline: this.timeline,
      config: this.config,
      clock: this.clock,
      appRunner: this.appRunner,
      tagging: this.tagging,
      ecr: this.ecr,
      inspector: this.inspector,
      logs: this.logs,
      scheduler: this.scheduler,
      bus: this.bus,
      sns: this.sns,
      ledger: this.ledger,
      accountId: this.accountId,
      region: this.region,
      runtime: this.runtime,
    } = parts);
  }

  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const config = parseGantryConfig(options.config ?? {});
    const accountId = options.accountId ?? "111122223333";
    const region = options.region ?? "us-east-1";
    const clock = new VirtualClock(options.start ?? new Date("2026-11-02T09:00:00Z"));
    const cleanups: (() => Promise<void>)[] = [];
    try {
      // Tests share one DynamoDB Local across sandboxes (each sandbox gets its own tables).
      let dynamodbEndpoint = options.dynamodbEndpoint ?? process.env.GANTRY_SANDBOX_DYNAMODB_ENDPOINT;
      if (!dynamodbEndpoint) {
        const dynamodb: DynamoDbLocal = await startDynamoDbLocal();
        cleanups.push(() => dynamodb.stop());
        dynamodbEndpoint = dynamodb.endpoint;
      }
      const suffix = randomUUID().slice(0, 8);
      const tables = { ledger: `gantry-ledger-${suffix}`, idempotency: `gantry-idempotency-${suffix}` };
      const dynamodbClient = new DynamoDBClient({
        endpoint: dynamodbEndpoint,
        region,
        credentials: localCredentials,
      });
      cleanups.push(async () => dynamodbClient.destroy());
      await createLedgerTable(dynamodbClient, tables.ledger);
      await createIdempotencyTable(dynamodbClient, tables.idempotency);

      let bus: LocalBus | undefined;
      const timeline: TimelineEntry[] = [];
      const logs = new LogsEmulator(clock);
      const faultLogs = new FaultLogs();
      const appRunner = new AppRunnerEmulator({
        clock,
        accountId,
        region,
        ...(options.appRunnerDurations ? { durations: options.appRunnerDurations } : {}),
        emit: (event) => {
          writeFailureLogs(event, logs, faultLogs);
          if (bus)
            timeline.push({ at: clock.now(), source: "aws.apprunner", event, rules: bus.publish(event) });
        },
      });
      cleanups.push(async () => appRunner.dispose());
      const ecr = new EcrEmulator({ accountId, region, clock });
      const inspector = new Inspector2Emulator({ accountId, region, clock });
      const tagging = new TaggingEmulator(appRunner);
      const server = new AwsEmulatorServer({
        apprunner: appRunner,
        ecr,
        others: [logs, tagging],
        restRoutes: inspector.routes(),
      });
      const scheduler = new LocalScheduler(clock);
      const { endpoint } = await server.start();
      cleanups.push(() => server.stop());
      const sns = new LocalSns();
      const { endpoint: snsEndpoint } = await sns.start();
      cleanups.push(() => sns.stop());

      const runtime = parseRuntimeConfig({
        AWS_REGION: region,
        GANTRY_STAGE: "sandbox",
        GANTRY_LEDGER_TABLE: tables.ledger,
        GANTRY_IDEMPOTENCY_TABLE: tables.idempotency,
        GANTRY_TOPIC_ARN: `arn:aws:sns:${region}:${accountId}:gantry-notifications`,
        GANTRY_APPRUNNER_ENDPOINT: endpoint,
        GANTRY_ECR_ENDPOINT: endpoint,
        GANTRY_INSPECTOR_ENDPOINT: endpoint,
        GANTRY_DYNAMODB_ENDPOINT: dynamodbEndpoint,
        GANTRY_SNS_ENDPOINT: snsEndpoint,
        GANTRY_LOGS_ENDPOINT: endpoint,
        GANTRY_TAGGING_ENDPOINT: endpoint,
        // Replays run hours of sandbox time in seconds; the rate limit is real time, so keep it loose.
        GANTRY_APPRUNNER_MAX_RPS: String(options.appRunnerMaxRps ?? 500),
      });
      const context = buildAppContext(runtime, config, {
        clock,
        credentials: localCredentials,
        maxAttempts: 1,
        scheduler,
        random: seededRandom(options.seed ?? 1),
        observe: (source, effects) => {
          for (const effect of effects) timeline.push({ at: clock.now(), source, effect });
        },
      });
      const handlers = createGantryHandlers(() => context);
      // Slack as in production: a separate SNS subscriber, so it never holds up a decision.
      let slack: SandboxSlack | undefined;
      if (options.slack !== false) {
        const started = await startSandboxSlack({
          app: context,
          runtime,
          clock,
          sns,
          appRunner,
          options: options.slack ?? {},
          record: (effect) => timeline.push({ at: clock.now(), source: "slack", effect }),
        });
        cleanups.push(started.stop);
        slack = started.slack;
      }
      const invoke =
        (name: string, handler: (event: unknown, lambdaContext: never) => Promise<unknown>) =>
        (event: unknown) =>
          handler(event, localLambdaContext(`gantry-sandbox-${name}`) as never);
      bus = new LocalBus(
        gantryRules,
        {
          "image-push": invoke("image-push", handlers.imagePush),
          "image-scan": invoke("image-scan", handlers.imageScan),
          "apprunner-event": invoke("apprunner-event", handlers.appRunnerEvent),
        },
        clock,
      );
      scheduler.target((job) => invoke("retry", handlers.retry)(job));
      return new Sandbox({
        timeline,
        config,
        clock,
        appRunner,
        tagging,
        ecr,
        inspector,
        logs,
        scheduler,
        bus,
        sns,
        ledger: new DynamoDbLedger(dynamodbClient, tables.ledger),
        accountId,
        region,
        runtime,
        faultLogs,
        ...(slack ? { slack } : {}),
        reconcile: () =>
          invoke("reconcile", handlers.reconcile)(scheduledEvent(clock.now(), accountId, region)),
        teardown: async () => {
          for (const cleanup of cleanups.reverse()) await cleanup();
        },
      });
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  get registry(): string {
    return `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com`;
  }

  /** A running, Gantry-managed App Runner service (seeded, as if created long ago). */
  createService(service: SandboxService): string {
    return this.appRunner.seedService(this.#createInput(service)).ServiceArn as string;
  }

  #createInput(service: SandboxService) {
    const tags = {
      ...(service.addManagedTag === false ? {} : { "gantry:managed": "true" }),
      ...service.tags,
    };
    return {
      ServiceName: service.name,
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: this.#imageIdentifier(service.image),
          ImageRepositoryType: "ECR",
          ImageConfiguration: { Port: "8080" },
        },
        AutoDeploymentsEnabled: service.autoDeploy ?? false,
        AuthenticationConfiguration: {
          AccessRoleArn: `arn:aws:iam::${this.accountId}:role/apprunner-ecr-access`,
        },
      },
      HealthCheckConfiguration: { Protocol: "HTTP", Path: "/healthz" },
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    };
  }

  /** `repo:tag` → `<registry>/repo:tag`; a full identifier must name this sandbox's registry. */
  #imageIdentifier(image: string): string {
    const slash = image.indexOf("/");
    const host = slash < 0 ? "" : image.slice(0, slash);
    if (!/[.:]/.test(host) && host !== "localhost") return `${this.registry}/${image}`;
    if (host !== this.registry) {
      throw new Error(
        `image ${image} is not in this sandbox's registry ${this.registry}: start the sandbox in that account and region`,
      );
    }
    return image;
  }

  /** The image lands in ECR (with its scan result ready for DescribeImageScanFindings). */
  putImage(image: SandboxImage): void {
    this.inspector.putFindings(image.repository, image.digest, image.findings ?? []);
    this.ecr.putImage({
      repositoryName: image.repository,
      digest: image.digest,
      tags: image.tags ?? [],
      pushedAt: this.clock.now(),
      scan: {
        status: image.scanStatus ?? "COMPLETE",
        findings: (image.findings ?? []).map((finding) => ({ name: finding.id, severity: finding.severity })),
      },
    });
  }

  /** ECR's push event(s): one per tag, or one untagged. */
  pushEvents(image: SandboxImage): EventBridgeEvent[] {
    const tags = image.tags?.length ? image.tags : [undefined];
    return tags.map((tag) =>
      ecrImagePushEvent({
        account: this.accountId,
        region: this.region,
        repositoryName: image.repository,
        digest: image.digest,
        ...(tag ? { tag } : {}),
        time: this.clock.now(),
      }),
    );
  }

  scanEvent(image: SandboxImage, scanner: "basic" | "enhanced" = "basic"): EventBridgeEvent {
    const severityCounts: Record<string, number> = {};
    for (const finding of image.findings ?? [])
      severityCounts[finding.severity] = (severityCounts[finding.severity] ?? 0) + 1;
    const common = {
      account: this.accountId,
      region: this.region,
      repositoryName: image.repository,
      digest: image.digest,
      tags: image.tags ?? [],
      time: this.clock.now(),
      severityCounts,
    };
    return scanner === "basic"
      ? ecrImageScanEvent({ ...common, ...(image.scanStatus ? { status: image.scanStatus } : {}) })
      : inspectorScanEvent(common);
  }

  /**
   * PutEvents on the sandbox's default bus. An event the bus would never see (another account or
   * region) or that no Gantry rule matches is recorded with an `ignore` effect that says why.
   */
  publish(event: EventBridgeEvent): string[] {
    const elsewhere = this.#elsewhere(event);
    const rules = elsewhere ? [] : this.bus.publish(event);
    this.timeline.push({
      at: this.clock.now(),
      source: event.source,
      event,
      rules,
      ...(elsewhere ? { elsewhere: true as const } : {}),
    });
    const why =
      elsewhere ??
      (rules.length === 0
        ? `no Gantry rule matches this ${event.source} "${event["detail-type"]}" event (gantry test-pattern <pattern.json> <event.json> shows why)`
        : undefined);
    if (why) {
      const digest = (event.detail as Record<string, unknown> | undefined)?.["image-digest"];
      this.timeline.push({
        at: this.clock.now(),
        source: "eventbridge",
        effect: {
          type: "ignore",
          ...(typeof digest === "string" ? { digest } : {}),
          reasons: [why],
          message: elsewhere
            ? "event from another account or region: not delivered"
            : "no rule matched: not delivered",
        },
      });
    }
    return rules;
  }

  /**
   * An AWS service's events go to the default bus of the account and region they happened in
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html#eb-service-event), so an
   * event from elsewhere would never reach Gantry's rules on AWS either.
   */
  #elsewhere(event: EventBridgeEvent): string | undefined {
    const account = event.account !== this.accountId ? `account ${event.account}` : undefined;
    const region = event.region !== this.region ? `region ${event.region}` : undefined;
    if (!account && !region) return undefined;
    return (
      `${[account, region].filter(Boolean).join(", ")} is not the sandbox's: its default bus is account ${this.accountId} ` +
      `in ${this.region}, and EventBridge delivers an AWS service's events only to the default bus of their own account and region ` +
      `(to replay in another account or region, give a service the full image identifier <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>)`
    );
  }

  /**
   * Runs the clock until the system is quiescent: pending deliveries and operations first; then,
   * while releases are still open, the reconciler's schedule (scan timeouts, lost events).
   */
  async settle(horizonMs = 6 * 60 * 60_000): Promise<void> {
    const until = this.clock.now().getTime() + horizonMs;
    let quietSince = this.clock.now().getTime();
    let nextTick = quietSince + RECONCILE_EVERY_MS;
    for (;;) {
      const next = this.clock.pending()[0];
      if (next && next.dueAt.getTime() <= Math.min(nextTick, until)) {
        await this.clock.step();
        continue;
      }
      const now = this.clock.now().getTime();
      if (now >= until || nextTick > until) return;
      // Quiescent: nothing pending or open, and the reconciler has had a quiet window to act on
      // what waits for time to pass (an auto-resume after CloudTrail's delay, a scan timeout).
      if (!next && !(await this.hasOpenWork()) && now - quietSince >= QUIET_WINDOW_MS) return;
      // The reconciler's schedule runs alongside everything else, as EventBridge's does.
      await this.clock.advance(nextTick - now);
      const before = this.timeline.length;
      await this.reconcile();
      if (this.timeline.length !== before) quietSince = this.clock.now().getTime();
      nextTick += RECONCILE_EVERY_MS;
    }
  }

  /** One run of the scheduled reconciler (production runs it every 5 minutes). */
  async reconcile(): Promise<void> {
    await this.#parts.reconcile();
  }

  /**
   * Inject an App Runner fault for a service. Operation faults also write the log lines App Runner
   * would (`logs`, or a realistic default per outcome) when their operation fails.
   */
  injectFault(serviceName: string, fault: Omit<FaultSpec, "service"> & { logs?: string[] }): void {
    const { logs, ...spec } = fault;
    this.appRunner.injectFault({ ...spec, service: serviceName });
    if (OPERATION_FAULTS.has(spec.outcome)) {
      this.#parts.faultLogs.add(
        serviceName,
        logs ?? DEFAULT_FAILURE_LOGS[spec.outcome] ?? [],
        spec.times ?? 1,
      );
    }
  }

  /** A service created through CreateService (it starts, or fails, like a new one), managed. */
  async createServiceViaApi(service: SandboxService): Promise<string> {
    const output = (await this.appRunner.handle("CreateService", this.#createInput(service))) as {
      Service: { ServiceArn: string };
    };
    return output.Service.ServiceArn;
  }

  /**
   * Someone pauses a service: App Runner pauses it, and CloudTrail reports the call a few minutes
   * later (as an IAM user for a person, as an assumed role for automation).
   */
  async pauseService(serviceName: string, by: "person" | "automation"): Promise<void> {
    const serviceArn = this.#arnOf(serviceName);
    await this.appRunner.handle("PauseService", { ServiceArn: serviceArn });
    const userIdentity =
      by === "person"
        ? { type: "IAMUser", arn: `arn:aws:iam::${this.accountId}:user/alice`, principalId: "AIDAEXAMPLE" }
        : {
            type: "AssumedRole",
            arn: `arn:aws:sts::${this.accountId}:assumed-role/nightly-scaler/lambda`,
            principalId: "AROAEXAMPLE:lambda",
          };
    const event: EventBridgeEvent = {
      version: "0",
      id: randomUUID(),
      "detail-type": "AWS API Call via CloudTrail",
      source: "aws.apprunner",
      account: this.accountId,
      time: this.clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z"),
      region: this.region,
      resources: [],
      detail: {
        eventVersion: "1.08",
        eventSource: "apprunner.amazonaws.com",
        eventName: "PauseService",
        awsRegion: this.region,
        userIdentity,
        requestParameters: { serviceArn },
      },
    };
    this.clock.schedule(
      CLOUDTRAIL_DELAY_MS,
      () => void this.publish(event),
      "CloudTrail PauseService record",
    );
  }

  #arnOf(serviceName: string): string {
    const found = this.appRunner
      .snapshot()
      .services.find(({ service }) => service.ServiceName === serviceName);
    if (!found) throw new Error(`no service named ${serviceName} in the sandbox`);
    return found.service.ServiceArn as string;
  }

  async hasOpenWork(): Promise<boolean> {
    for (const { service } of this.appRunner.snapshot().services) {
      const arn = service.ServiceArn as string;
      if ((await this.ledger.getSlot(arn))?.activeOperationId) return true;
      if ((await this.ledger.releasesByService(arn)).some((release) => OPEN_STATES.has(release.state)))
        return true;
    }
    return false;
  }

  effects(): Effect[] {
    return this.timeline.flatMap((entry) => (entry.effect ? [entry.effect] : []));
  }

  async stop(): Promise<void> {
    await this.#parts.teardown();
  }
}

/** App Runner writes a failed operation's story to the service's `service` log group. */
function writeFailureLogs(event: EventBridgeEvent, logs: LogsEmulator, faultLogs: FaultLogs): void {
  const status = String(event.detail.operationStatus ?? "");
  if (event["detail-type"] !== "AppRunner Service Operation Status Change" || !status.endsWith("Failed"))
    return;
  const serviceName = String(event.detail.serviceName);
  const lines = faultLogs.next(serviceName);
  if (lines.length > 0) logs.write(`/aws/apprunner/${serviceName}/${event.detail.serviceId}/service`, lines);
}

function scheduledEvent(now: Date, account: string, region: string): EventBridgeEvent {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account,
    time: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region,
    resources: [`arn:aws:events:${region}:${account}:rule/gantry-reconciler`],
    detail: {},
  };
}
