import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createIdempotencyTable, createLedgerTable, DynamoDbLedger } from "@gantry/aws";
import { type Effect, type GantryConfig, parseGantryConfig } from "@gantry/core";
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
import { AppRunnerEmulator } from "./apprunner-emulator.ts";
import { AwsEmulatorServer } from "./aws-emulator-server.ts";
import { type DynamoDbLocal, localCredentials, startDynamoDbLocal } from "./dynamodb-local.ts";
import { EcrEmulator, type EcrFinding } from "./ecr-emulator.ts";
import { Inspector2Emulator } from "./inspector2-emulator.ts";
import { LocalBus } from "./local-bus.ts";
import { LocalSns } from "./local-sns.ts";
import { VirtualClock } from "./virtual-clock.ts";

export interface SandboxOptions {
  config?: unknown;
  /** Reuse a running DynamoDB Local (tests share one); otherwise the sandbox starts its own. */
  dynamodbEndpoint?: string;
  start?: Date;
  accountId?: string;
  region?: string;
}

/** One line of what happened: an event on the bus, or an effect a handler produced. */
export type TimelineEntry =
  | { at: Date; source: string; effect: Effect; event?: undefined }
  | { at: Date; source: string; event: EventBridgeEvent; rules: string[]; effect?: undefined };

export interface SandboxService {
  name: string;
  /** Tag form (`repo:tag`) or digest form; the registry is the sandbox account's ECR. */
  image: string;
  tags?: Record<string, string>;
  autoDeploy?: boolean;
}

export interface SandboxImage {
  repository: string;
  digest: string;
  tags?: string[];
  findings?: { id: string; severity: EcrFinding["severity"] }[];
  scanStatus?: "COMPLETE" | "FAILED" | "UNSUPPORTED_IMAGE";
}

const RECONCILE_EVERY_MS = 5 * 60_000;
const OPEN_STATES = new Set(["awaiting-scan", "waiting", "deploying"]);

/**
 * Gantry on one machine: the App Runner and ECR emulators, DynamoDB Local, a local SNS endpoint
 * and the in-process bus, wired to the same handlers and rules as production, on a virtual clock.
 */
export class Sandbox {
  private constructor(
    /** What each handler did, in order, stamped with sandbox time. */
    readonly timeline: TimelineEntry[],
    readonly config: GantryConfig,
    readonly clock: VirtualClock,
    readonly appRunner: AppRunnerEmulator,
    readonly ecr: EcrEmulator,
    readonly inspector: Inspector2Emulator,
    readonly bus: LocalBus,
    readonly sns: LocalSns,
    readonly ledger: DynamoDbLedger,
    readonly accountId: string,
    readonly region: string,
    /** Endpoints and table names: what a CLI in another process needs to reach this sandbox. */
    readonly runtime: RuntimeConfig,
    private readonly reconcileHandler: () => Promise<unknown>,
    private readonly teardown: () => Promise<void>,
  ) {}

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
      const appRunner = new AppRunnerEmulator({
        clock,
        accountId,
        region,
        emit: (event) => {
          if (bus)
            timeline.push({ at: clock.now(), source: "aws.apprunner", event, rules: bus.publish(event) });
        },
      });
      cleanups.push(async () => appRunner.dispose());
      const ecr = new EcrEmulator({ accountId, region, clock });
      const inspector = new Inspector2Emulator({ accountId, region, clock });
      const server = new AwsEmulatorServer({ apprunner: appRunner, ecr, restRoutes: inspector.routes() });
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
      });
      const context = buildAppContext(runtime, config, {
        clock,
        credentials: localCredentials,
        maxAttempts: 1,
        observe: (source, effects) => {
          for (const effect of effects) timeline.push({ at: clock.now(), source, effect });
        },
      });
      const handlers = createGantryHandlers(() => context);
      const invoke =
        (name: string, handler: (event: unknown, lambdaContext: never) => Promise<unknown>) =>
        (event: EventBridgeEvent) =>
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
      return new Sandbox(
        timeline,
        config,
        clock,
        appRunner,
        ecr,
        inspector,
        bus,
        sns,
        new DynamoDbLedger(dynamodbClient, tables.ledger),
        accountId,
        region,
        runtime,
        () => invoke("reconcile", handlers.reconcile)(scheduledEvent(clock.now(), accountId, region)),
        async () => {
          for (const cleanup of cleanups.reverse()) await cleanup();
        },
      );
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
    const wire = this.appRunner.seedService({
      ServiceName: service.name,
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: `${this.registry}/${service.image}`,
          ImageRepositoryType: "ECR",
          ImageConfiguration: { Port: "8080" },
        },
        AutoDeploymentsEnabled: service.autoDeploy ?? false,
        AuthenticationConfiguration: {
          AccessRoleArn: `arn:aws:iam::${this.accountId}:role/apprunner-ecr-access`,
        },
      },
      Tags: Object.entries({ "gantry:managed": "true", ...service.tags }).map(([Key, Value]) => ({
        Key,
        Value,
      })),
    });
    return wire.ServiceArn as string;
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

  publish(event: EventBridgeEvent): string[] {
    const rules = this.bus.publish(event);
    this.timeline.push({ at: this.clock.now(), source: event.source, event, rules });
    return rules;
  }

  /**
   * Runs the clock until the system is quiescent: pending deliveries and operations first; then,
   * while releases are still open, the reconciler's schedule (scan timeouts, lost events).
   */
  async settle(horizonMs = 6 * 60 * 60_000): Promise<void> {
    const until = this.clock.now().getTime() + horizonMs;
    for (;;) {
      await this.clock.runUntilIdle(until - this.clock.now().getTime());
      if (this.clock.now().getTime() >= until || !(await this.hasOpenWork())) return;
      await this.clock.advance(RECONCILE_EVERY_MS);
      await this.reconcile();
    }
  }

  /** One run of the scheduled reconciler (production runs it every 5 minutes). */
  async reconcile(): Promise<void> {
    await this.reconcileHandler();
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
    await this.teardown();
  }
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
