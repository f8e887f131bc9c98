import { classifyError } from "../../../runtime/src/error-classifier.ts";
import {
  type AppRunnerOperationStatusChanged,
  type Clock,
  type Effect,
  type Finding,
  type GantryConfigInput,
  type GantryDeps,
  type ImagePushed,
  type ImageScanCompleted,
  type LogsPort,
  onAppRunnerEvent,
  parseGantryConfig,
  type RetryJob,
  type ScanEvidence,
  type ScanFindingsPort,
  type SchedulerPort,
  type SeverityCounts,
  seededRandom,
} from "../../src/index.ts";
import { InMemoryAppRunner } from "./in-memory-app-runner.ts";
import { InMemoryLedger } from "./in-memory-ledger.ts";

export class ManualClock implements Clock {
  #now: number;
  constructor(start = "2026-06-01T12:00:00.000Z") {
    this.#now = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(ms: number): Date {
    this.#now += ms;
    return this.now();
  }
  set(iso: string): void {
    this.#now = new Date(iso).getTime();
  }
}

export class RecordingScheduler implements SchedulerPort {
  readonly jobs: { job: RetryJob; at: Date }[] = [];
  async scheduleRetry(job: RetryJob, at: Date): Promise<void> {
    this.jobs.push({ job, at });
  }
}

/** ECR / Inspector as the reconciler and the gate ask them; `calls` records each question. */
export class StubFindings implements ScanFindingsPort {
  readonly scans = new Map<string, ScanEvidence>();
  readonly findings = new Map<string, Finding[]>();
  readonly calls: { method: "describeScan" | "listFindings"; repository: string; digest: string }[] = [];
  async describeScan(input: { repository: string; digest: string }): Promise<ScanEvidence | undefined> {
    this.calls.push({ method: "describeScan", ...input });
    return this.scans.get(`${input.repository}@${input.digest}`);
  }
  async listFindings(input: { repository: string; digest: string }): Promise<Finding[]> {
    this.calls.push({ method: "listFindings", repository: input.repository, digest: input.digest });
    return this.findings.get(`${input.repository}@${input.digest}`) ?? [];
  }
}

export class StubLogs implements LogsPort {
  readonly lines = new Map<string, string[]>();
  async serviceLogs(input: { serviceName: string }): Promise<string[]> {
    return this.lines.get(input.serviceName) ?? [];
  }
}

export interface CoreHarness {
  deps: GantryDeps;
  clock: ManualClock;
  ledger: InMemoryLedger;
  appRunner: InMemoryAppRunner;
  scheduler: RecordingScheduler;
  findings: StubFindings;
  logs: StubLogs;
}

/** Every port of the core in memory, with the runtime's one error classifier. */
export function coreHarness(config: GantryConfigInput = {}, seed = 1): CoreHarness {
  const clock = new ManualClock();
  const ledger = new InMemoryLedger();
  const appRunner = new InMemoryAppRunner(clock);
  const scheduler = new RecordingScheduler();
  const findings = new StubFindings();
  const logs = new StubLogs();
  const deps: GantryDeps = {
    config: parseGantryConfig(config),
    clock,
    random: seededRandom(seed),
    appRunner,
    ledger,
    findings,
    logs,
    scheduler,
    isTransient: (error) => classifyError(error).kind === "retry",
  };
  return { deps, clock, ledger, appRunner, scheduler, findings, logs };
}

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;

export function digestOf(label: string): string {
  return `sha256:${Buffer.from(label).toString("hex").padEnd(64, "0").slice(0, 64)}`;
}

export function pushed(input: { repository: string; digest: string; tag?: string; time: Date }): ImagePushed {
  return {
    kind: "image-pushed",
    eventId: `push-${input.digest}-${input.time.toISOString()}`,
    account: ACCOUNT,
    region: REGION,
    time: input.time,
    repositoryName: input.repository,
    digest: input.digest,
    ...(input.tag ? { tag: input.tag } : {}),
  };
}

export const NO_FINDINGS: SeverityCounts = {
  CRITICAL: 0,
  HIGH: 0,
  MEDIUM: 0,
  LOW: 0,
  INFORMATIONAL: 0,
  UNDEFINED: 0,
};

export function scanned(input: {
  repository: string;
  digest: string;
  time: Date;
  counts?: Partial<SeverityCounts>;
  tags?: string[];
  scanner?: "basic" | "enhanced";
  reportedTotal?: number;
}): ImageScanCompleted {
  return {
    kind: "image-scan-completed",
    eventId: `scan-${input.digest}-${input.time.toISOString()}`,
    account: ACCOUNT,
    region: REGION,
    time: input.time,
    scanner: input.scanner ?? "basic",
    repositoryName: input.repository,
    digest: input.digest,
    tags: input.tags ?? [],
    scanStatus: input.scanner === "enhanced" ? "INITIAL_SCAN_COMPLETE" : "COMPLETE",
    succeeded: true,
    severityCounts: { ...NO_FINDINGS, ...input.counts },
    ...(input.reportedTotal !== undefined ? { reportedTotal: input.reportedTotal } : {}),
  };
}

/**
 * Lets concurrent handlers interleave at every port call: each call waits a pseudo-random number
 * of macrotask turns, so `Promise.all` over handlers explores different orders per seed.
 */
export function interleave(harness: CoreHarness, seed: number, maxTurns = 3): void {
  const random = seededRandom(seed);
  const pause = async () => {
    const turns = Math.floor(random.next() * (maxTurns + 1));
    for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  harness.ledger.beforeEach = pause;
  harness.appRunner.beforeEach = pause;
}

/**
 * App Runner's "operation ended" event for a service, as the apprunner-event function receives it
 * (no operation id: Gantry looks the operation up). Succeeded unless told otherwise.
 */
export function operationEnded(
  harness: CoreHarness,
  serviceArn: string,
  ended: Pick<AppRunnerOperationStatusChanged, "operationStatus" | "outcome"> = {
    operationStatus: "UpdateServiceCompletedSuccessfully",
    outcome: "succeeded",
  },
): Promise<Effect[]> {
  return onAppRunnerEvent(harness.deps, {
    kind: "apprunner-operation-status-changed",
    eventId: `op-${harness.clock.now().toISOString()}`,
    account: ACCOUNT,
    region: REGION,
    time: harness.clock.now(),
    serviceArn,
    serviceName: serviceArn.split("/").at(-2) ?? "",
    serviceId: serviceArn.split("/").at(-1) ?? "",
    ...ended,
  });
}
