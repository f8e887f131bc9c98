import type { RandomSource } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import type { Effect } from "./effects.ts";
import type { GantryConfig } from "./gantry-config.ts";
import type { Finding, ScanEvidence } from "./gate.ts";
import type { PauserIdentity } from "./pause-attribution.ts";
import type { Release, ScanRecord, ServiceSlot } from "./release.ts";

/** What Gantry needs to know about an App Runner service (adapter-neutral). */
export interface ManagedService {
  serviceArn: string;
  serviceName: string;
  status: string;
  /** The image identifier App Runner runs now (tag or digest form). */
  imageIdentifier: string;
  autoDeploymentsEnabled: boolean;
  tags: Record<string, string>;
  /** `ImageConfiguration.Port`: where App Runner sends traffic and TCP health checks (default 8080). */
  port?: number;
}

/**
 * A managed service as discovery last described it, kept in the ledger so that no instance has to
 * describe the whole fleet again: App Runner's `UpdatedAt` tells whether the description still holds.
 */
export interface IndexedService extends ManagedService {
  /** App Runner's `UpdatedAt` for the service when it was described (ISO 8601). */
  updatedAt: string;
}

export interface FleetIndex {
  /** By service ARN. */
  services: IndexedService[];
  /** When an instance last walked the whole fleet (ISO 8601): a recent walk is reused, not repeated. */
  walkedAt?: string;
}

/** The persisted fleet index (the ledger keeps it; the App Runner adapter reads and refreshes it). */
export interface FleetIndexStore {
  fleetIndex(): Promise<FleetIndex>;
  /**
   * Stores `put` (an entry never replaces one App Runner updated later: compared by `updatedAt`),
   * deletes `remove` (service ARNs no longer live or managed), and records the walk's time (which
   * only moves forward).
   */
  saveFleetIndex(change: { put?: IndexedService[]; remove?: string[]; walkedAt?: string }): Promise<void>;
}

export interface OperationSummary {
  id: string;
  type: string;
  status: string;
  startedAt?: Date;
  endedAt?: Date;
  updatedAt?: Date;
}

export interface AppRunnerPort {
  /** Services tagged `gantry:managed=true`, with their tags and current image. */
  listManagedServices(): Promise<ManagedService[]>;
  describeService(serviceArn: string): Promise<ManagedService>;
  /**
   * UpdateService with the service's full SourceConfiguration (from DescribeService), only the
   * ImageIdentifier changed and auto-deploy off. Returns App Runner's OperationId.
   */
  deployImage(serviceArn: string, imageIdentifier: string): Promise<{ operationId: string }>;
  /** UpdateService setting AutoDeploymentsEnabled=false, nothing else. */
  disableAutoDeploy(serviceArn: string): Promise<{ operationId: string }>;
  /** Newest first, as App Runner returns them. */
  listOperations(serviceArn: string): Promise<OperationSummary[]>;
  /** Everything needed to create the service again (opaque to the core): a CreateService input. */
  captureSpec(serviceArn: string): Promise<ServiceSpecSnapshot>;
  /** UpdateService with the service's own configuration: AWS's way out of CREATE_FAILED (FACTS §0.2). */
  rebuildService(serviceArn: string, spec: ServiceSpecSnapshot): Promise<{ operationId: string }>;
  deleteService(serviceArn: string): Promise<{ operationId: string }>;
  /**
   * Could `spec` be created again once the service at `serviceArn` is deleted? Asked before every
   * DeleteService. `problems`: CreateService would be incomplete or refused (the API model, roles
   * Gantry may not pass, environment values missing or changed): never delete. `losses`: what the
   * new service would not have (custom domains, private ingress): delete only where policy allows.
   */
  checkRecreate(serviceArn: string, spec: ServiceSpecSnapshot): Promise<RecreateCheck>;
  /**
   * CreateService from `spec`. Its environment values are not in the spec (nor in the ledger): they
   * are read from the service `environmentFrom` replaces (App Runner describes deleted services too)
   * and must match the recorded hashes, else it throws RecreateRefusedError and creates nothing.
   */
  createService(
    spec: ServiceSpecSnapshot,
    options?: { environmentFrom?: string },
  ): Promise<{ serviceArn: string; serviceUrl: string; operationId: string }>;
  /**
   * DescribeService's status, for a service Gantry deleted: App Runner describes deleted services
   * for a while (status DELETED), then no longer knows the ARN, which also reads as "DELETED".
   */
  serviceStatus(serviceArn: string): Promise<string>;
  resumeService(serviceArn: string): Promise<{ operationId: string }>;
}

export interface RecreateCheck {
  problems: string[];
  losses: { kind: "custom-domains" | "private-ingress"; detail: string }[];
}

/** CreateService was not sent: its input could not be completed or checked (a decision, not a fault). */
export class RecreateRefusedError extends Error {
  constructor(readonly problems: string[]) {
    super(`recreate refused: ${problems.join("; ")}`);
    this.name = "RecreateRefusedError";
  }
}

export interface ServiceSpecSnapshot {
  serviceName: string;
  serviceUrl?: string;
  /**
   * The CreateService input that reproduces the service (source, instance, health check, network, …,
   * tags), without RuntimeEnvironmentVariables values: those may be secrets and never enter the ledger.
   */
  createInput: Record<string, unknown>;
  /**
   * RuntimeEnvironmentVariables by name, each value only as a salted SHA-256 (hex): enough to check
   * that values read back from App Runner at recreate time are the recorded ones.
   */
  environment?: { salt: string; sha256: Record<string, string> };
  capturedAt: string;
}

export interface LogsPort {
  /**
   * The newest lines of the service's deployment and application logs between `since` and `until`
   * (default: now), oldest first, bounded and redacted. `until` = when the operation ended keeps the
   * previous version's lines, still running after a rollback, out of a diagnosis made later.
   */
  serviceLogs(input: {
    serviceName: string;
    serviceId: string;
    since: Date;
    until?: Date;
  }): Promise<string[]>;
}

/** A deploy attempt due later, scheduled durably (EventBridge Scheduler one-time schedule). */
export interface RetryJob {
  kind: "redeploy";
  serviceArn: string;
  digest: string;
  attempt: number;
}

export interface SchedulerPort {
  scheduleRetry(job: RetryJob, at: Date): Promise<void>;
}

export interface ScanFindingsPort {
  /**
   * Ask ECR directly for an image's newest scan result, with its complete severity counts and its
   * completion time (`scannedAt`): the reconciler does when only the event was lost, the gate when
   * the evidence it holds is stale or incomplete. Undefined while no scan has finished.
   */
  describeScan(input: { repository: string; digest: string }): Promise<ScanEvidence | undefined>;
  /** Finding ids for one image: ECR DescribeImageScanFindings (basic) or Inspector2 ListFindings. */
  listFindings(input: {
    repository: string;
    digest: string;
    scanner: "basic" | "enhanced";
  }): Promise<Finding[]>;
}

export interface JournalEntry {
  serviceArn: string;
  serviceName: string;
  at: string;
  type: Effect["type"];
  digest?: string;
  operationId?: string;
  reasons?: string[];
  message?: string;
  actor?: string;
  /** Stable key for idempotency: the same business fact is journaled once. */
  key: string;
}

export type LedgerWrite =
  | { kind: "put-release"; release: Release }
  | { kind: "update-release"; release: Release; expectedVersion: number }
  | { kind: "put-slot"; slot: ServiceSlot; expectedVersion: number | undefined }
  | { kind: "journal"; entry: JournalEntry };

/** Raised when a conditional write lost a race: re-read and decide again. */
export class LedgerConflictError extends Error {
  constructor(message = "ledger conditional write conflict") {
    super(message);
    this.name = "LedgerConflictError";
  }
}

export interface LedgerPort {
  getRelease(serviceArn: string, digest: string): Promise<Release | undefined>;
  releasesByDigest(digest: string): Promise<Release[]>;
  /** Newest first. */
  releasesByService(serviceArn: string): Promise<Release[]>;
  getSlot(serviceArn: string): Promise<ServiceSlot | undefined>;
  getScan(repository: string, digest: string): Promise<ScanRecord | undefined>;
  /**
   * Keeps the newest scan of an image (by `scannedAt`): a rescan with new findings replaces the
   * stored one, a late or duplicate delivery of an older result does not. Returns whether it was stored.
   */
  putScan(scan: ScanRecord): Promise<boolean>;
  /** All-or-nothing; throws LedgerConflictError when any condition fails. Journal entries are idempotent. */
  commit(writes: LedgerWrite[]): Promise<void>;
  /** Newest first. */
  history(serviceArn: string, limit?: number): Promise<JournalEntry[]>;
  /** Per service name (it outlives a recreated service's ARN): spec, recovery and pause facts. */
  getServiceRecord(serviceName: string): Promise<ServiceRecord | undefined>;
  /** Conditional on `version` like every state change; undefined expects no record yet. */
  putServiceRecord(record: ServiceRecord, expectedVersion: number | undefined): Promise<void>;
  /** The service ARN the last reconciler run stopped after: the next run continues from there. */
  reconcileCursor(): Promise<string | undefined>;
  saveReconcileCursor(serviceArn: string): Promise<void>;
  /**
   * Records of recreates in flight (`recreateInFlight`): the old service is deleted or being deleted
   * and no longer listed, so the reconciler finds them here, not in App Runner's listing.
   */
  recreatesInFlight(): Promise<ServiceRecord[]>;
}

/**
 * A recreate the reconciler must drive: deleting the old service, or claimed for CreateService with
 * no new ARN recorded yet. The ledger indexes exactly these records.
 */
export function recreateInFlight(record: ServiceRecord): boolean {
  const recovery = record.recovery;
  return recovery?.phase === "deleting" || (recovery?.phase === "creating" && !recovery.newServiceArn);
}

export interface ServiceRecord {
  serviceName: string;
  serviceArn: string;
  /**
   * ARNs this service had before Gantry recreated it, newest first. Releases and the journal stay
   * keyed by the ARN they happened on; history reads across these, and a recreate carries the
   * unlifted quarantines over to the new ARN (so every quarantine check keeps working unchanged).
   */
  previousArns?: string[];
  /** The spec captured when a release went live: what a recreate builds from. */
  lastGoodSpec?: ServiceSpecSnapshot;
  recovery?: {
    phase: "rebuilding" | "deleting" | "creating" | "recovered" | "gave-up";
    attempts: number;
    operationId?: string;
    oldServiceArn?: string;
    newServiceArn?: string;
    newServiceUrl?: string;
    spec?: ServiceSpecSnapshot;
    startedAt: string;
    /** When a handler claimed the CreateService call (phase creating, no new ARN yet). */
    createClaimedAt?: string;
  };
  /**
   * The service's current or last pause (see use-cases/pause.ts): when Gantry saw it PAUSED, when
   * it saw it running again, and the newest PauseService call CloudTrail reported (which may arrive
   * minutes before or after the status event).
   */
  pause?: {
    seenAt?: string;
    /** The earliest a call may have started this pause: the previous pause's end. */
    since?: string;
    endedAt?: string;
    resumedAt?: string;
    lastCall?: { actor: string; identity: PauserIdentity; calledAt: string };
    /** This pause was reported as paused by nobody known (reported once). */
    unknownReported?: boolean;
  };
  version: number;
}

export interface Notification {
  schemaVersion: 1;
  kind: Effect["type"];
  level: "info" | "warning" | "failure";
  service?: string;
  serviceArn?: string;
  digest?: string;
  releaseId?: string;
  operationId?: string;
  reasons: string[];
  message: string;
  at: string;
}

export interface NotifierPort {
  publish(notification: Notification): Promise<void>;
}

export interface GantryDeps {
  config: GantryConfig;
  clock: Clock;
  random: RandomSource;
  appRunner: AppRunnerPort;
  ledger: LedgerPort;
  findings: ScanFindingsPort;
  logs: LogsPort;
  scheduler: SchedulerPort;
  /** The runtime's one error classifier, answering "would trying again later help?". */
  isTransient: (error: unknown) => boolean;
}
