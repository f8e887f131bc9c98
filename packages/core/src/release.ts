import type { GateDecision, ScanEvidence } from "./gate.ts";

/**
 * A release candidate: one digest for one service. Its state only moves forward along
 * awaiting-scan → (blocked | waiting | deploying) → (deployed | failed | rolled-back | superseded),
 * plus `approved-override` when a person lifts a block. Every change is a conditional write on `version`.
 */
export type ReleaseState =
  | "awaiting-scan"
  | "blocked"
  | "waiting"
  | "deploying"
  | "deployed"
  | "failed"
  | "rolled-back"
  | "rollback-failed"
  | "retrying"
  | "superseded";

export interface Release {
  serviceArn: string;
  serviceName: string;
  digest: string;
  /** `<registry>/<repository>`: where the digest lives. */
  registry: string;
  repository: string;
  tags: string[];
  policyName: string;
  policyVersion: string;
  state: ReleaseState;
  pushedAt: string;
  scan?: ScanEvidence;
  decision?: GateDecision & { decidedAt: string };
  /** Set when a person approved it against the gate. */
  override?: { actor: string; reason: string; at: string };
  operationId?: string;
  deployStartedAt?: string;
  deployEndedAt?: string;
  /** Deploy attempts started so far (1 after the first UpdateService), including `apiErrors`. */
  attempts?: number;
  /**
   * Attempts App Runner's API refused transiently (throttling, 5xx) before any deployment started.
   * They have their own budget (`retry.maxApiErrors`): an API storm must not use up the retries meant
   * for deployments that fail.
   */
  apiErrors?: number;
  nextAttemptAt?: string;
  /** Why the last attempt failed, from the service logs. */
  failure?: { cause: string; summary: string; evidence: string[] };
  /** Set when the digest was rolled back: it is never deployed again automatically. */
  quarantine?: { since: string; reason: string; liftedBy?: { actor: string; reason: string; at: string } };
  version: number;
}

/** Per-service serialisation: App Runner runs one operation at a time (FACTS §3). */
export interface ServiceSlot {
  serviceArn: string;
  activeOperationId?: string;
  activeDigest?: string;
  /** When a handler claimed the slot to call UpdateService (the claim holds `claim:<digest>`). */
  claimedAt?: string;
  /** The newest approved digest waiting for the active operation to end. */
  waitingDigest?: string;
  /** The operation already reported as stuck (reported once, followed until it ends). */
  stuckReported?: string;
  version: number;
}

export interface ScanRecord extends ScanEvidence {
  repository: string;
  digest: string;
  tags: string[];
  receivedAt: string;
}

export const TERMINAL_STATES: ReadonlySet<ReleaseState> = new Set([
  "deployed",
  "failed",
  "rolled-back",
  "rollback-failed",
  "superseded",
]);

export function releaseId(release: Pick<Release, "serviceName" | "digest">): string {
  return `${release.serviceName}@${release.digest}`;
}
