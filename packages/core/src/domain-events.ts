import type { PauserIdentity } from "./pause-attribution.ts";

/**
 * What the outside world tells Gantry, in Gantry's own words. `packages/events` maps the AWS wire
 * formats (EventBridge events) onto these; nothing here knows about JSON field spellings.
 */

export type Severity = "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "INFORMATIONAL" | "UNDEFINED";
export const SEVERITIES: readonly Severity[] = [
  "CRITICAL",
  "HIGH",
  "MEDIUM",
  "LOW",
  "INFORMATIONAL",
  "UNDEFINED",
];

/** Every severity present, a missing key counted as 0 (ECR omits severities with no findings). */
export type SeverityCounts = Record<Severity, number>;

interface EventEnvelope {
  /** EventBridge event id: useful for logs, never a business key (it can change on replay). */
  eventId: string;
  account: string;
  region: string;
  time: Date;
}

/** `ECR Image Action` PUSH / SUCCESS. */
export interface ImagePushed extends EventEnvelope {
  kind: "image-pushed";
  repositoryName: string;
  digest: string;
  /** Absent for an untagged push. */
  tag?: string;
}

/** `ECR Image Scan` (basic) or `Inspector2 Scan` (enhanced). */
export interface ImageScanCompleted extends EventEnvelope {
  kind: "image-scan-completed";
  scanner: "basic" | "enhanced";
  repositoryName: string;
  digest: string;
  tags: string[];
  /** ECR's `scan-status` / Inspector's `scan-status`, verbatim (COMPLETE, FAILED, INITIAL_SCAN_COMPLETE, …). */
  scanStatus: string;
  /** True when the scan produced findings Gantry may judge (COMPLETE / INITIAL_SCAN_COMPLETE). */
  succeeded: boolean;
  severityCounts: SeverityCounts;
  /**
   * Inspector's `TOTAL`, verbatim, when sent. It can exceed the sum of `severityCounts` (AWS's own
   * sample: TOTAL 158, 130 attributed), i.e. some findings came without a severity count; a gate that
   * must fail closed can compare the two.
   */
  reportedTotal?: number;
}

export interface AppRunnerServiceRef {
  serviceArn: string;
  serviceName: string;
  serviceId: string;
}

/** `AppRunner Service Operation Status Change`: no operation id, no image (FACTS §0.7). */
export interface AppRunnerOperationStatusChanged extends EventEnvelope, AppRunnerServiceRef {
  kind: "apprunner-operation-status-changed";
  /** e.g. UpdateServiceCompletedSuccessfully, DeploymentFailed. */
  operationStatus: string;
  outcome: "succeeded" | "failed" | "started" | "unknown";
  message?: string;
  severity?: string;
}

/** `AppRunner Service Status Change`. */
export interface AppRunnerServiceStatusChanged extends EventEnvelope, AppRunnerServiceRef {
  kind: "apprunner-service-status-changed";
  previousStatus?: string;
  currentStatus: string;
  message?: string;
  severity?: string;
}

export type DomainEvent =
  | AppRunnerPauseCalled
  | ImagePushed
  | ImageScanCompleted
  | AppRunnerOperationStatusChanged
  | AppRunnerServiceStatusChanged;

/** CloudTrail's record of a PauseService call (`AWS API Call via CloudTrail`): who paused a service. */
export interface AppRunnerPauseCalled extends EventEnvelope {
  kind: "apprunner-pause-called";
  serviceArn: string;
  /** The caller's ARN (user, role session, SSO session), or its identity type when it has none. */
  actor: string;
  /** Who called, as CloudTrail records it: the core decides person or automation (pause-attribution.ts). */
  identity: PauserIdentity;
}
