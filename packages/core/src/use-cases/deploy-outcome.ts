import { fullJitterDelaySeconds } from "../backoff.ts";
import type { Effect } from "../effects.ts";
import { diagnoseFailure, type FailureDiagnosis } from "../failure-cause.ts";
import { DEFAULT_RETRY } from "../gantry-config.ts";
import type { GantryDeps, RetryJob } from "../ports.ts";
import type { Release } from "../release.ts";

export interface Outcome {
  release: Release;
  effects: Effect[];
  /** A durable retry to schedule once the outcome is committed. */
  retry?: { job: RetryJob; at: Date };
}

export function serviceIdOf(serviceArn: string): string {
  return serviceArn.split("/").at(-1) ?? "";
}

function ref(release: Release, operationId?: string) {
  return {
    service: release.serviceName,
    serviceArn: release.serviceArn,
    digest: release.digest,
    ...(operationId ? { operationId } : {}),
  };
}

/**
 * What an ended deploy operation means for its release. App Runner rolls a failed deployment back
 * silently (FACTS §0.4): a rollback verdict quarantines the digest; a failure whose cause may pass
 * (nothing judged the app unhealthy, or a dependency was not ready) is retried with backoff.
 */
export async function deployOutcome(
  deps: GantryDeps,
  release: Release,
  operation: { id: string; status: string; endedAt?: Date },
  waitingDigest: string | undefined,
): Promise<Outcome> {
  const now = deps.clock.now();
  const ended = {
    ...release,
    deployEndedAt: now.toISOString(),
    nextAttemptAt: undefined,
    version: release.version + 1,
  };
  if (operation.status === "SUCCEEDED") {
    const leadTimeSeconds = Math.round((now.getTime() - new Date(release.pushedAt).getTime()) / 1000);
    return {
      release: { ...ended, state: "deployed", failure: undefined },
      effects: [
        {
          type: "outcome",
          ...ref(release, operation.id),
          outcome: "deployed",
          leadTimeSeconds,
          message: `release is live (push to running: ${formatDuration(leadTimeSeconds)})`,
        },
      ],
    };
  }

  // Judged against the service's own port; lines after the operation ended (the previous version,
  // running again after the rollback) stay out of a diagnosis the reconciler makes late.
  const diagnosis = diagnoseFailure(
    await deps.logs.serviceLogs({
      serviceName: release.serviceName,
      serviceId: serviceIdOf(release.serviceArn),
      since: new Date(release.deployStartedAt ?? release.pushedAt),
      until: operation.endedAt ?? now,
    }),
    { expectedPort: (await deps.appRunner.describeService(release.serviceArn)).port },
  );
  const failure = { cause: diagnosis.cause, summary: diagnosis.summary, evidence: diagnosis.evidence };
  const reasons = [
    `operation ${operation.id} ended ${operation.status}`,
    `probable cause: ${diagnosis.summary}`,
  ];

  if (operation.status === "ROLLBACK_FAILED") {
    return {
      release: { ...ended, state: "rollback-failed", failure },
      effects: [
        {
          type: "outcome",
          ...ref(release, operation.id),
          outcome: "rollback-failed",
          level: "failure",
          cause: diagnosis.cause,
          evidence: diagnosis.evidence,
          reasons,
          message: "the deployment failed and App Runner could not roll back: the service needs a person",
        },
      ],
    };
  }

  if (isRollbackVerdict(operation.status, diagnosis)) {
    const quarantine = { since: now.toISOString(), reason: diagnosis.summary };
    return {
      release: { ...ended, state: "rolled-back", failure, quarantine },
      effects: [
        {
          type: "rollback",
          ...ref(release, operation.id),
          level: "failure",
          cause: diagnosis.cause,
          evidence: diagnosis.evidence,
          reasons,
          message: "deployment failed; App Runner kept the previous version running",
        },
        {
          type: "quarantine",
          ...ref(release),
          level: "warning",
          reasons: [diagnosis.summary],
          message: `never redeployed automatically; to retry it: gantry quarantine lift ${release.serviceName} ${release.digest} --reason "…"`,
        },
      ],
    };
  }

  return planRetry(deps, { ...ended, failure }, reasons, waitingDigest);
}

function isRollbackVerdict(status: string, diagnosis: FailureDiagnosis): boolean {
  // A dependency that was not ready yet makes App Runner roll back too, but trying later can help.
  if (diagnosis.cause === "dependency-unavailable") return false;
  return status === "ROLLBACK_SUCCEEDED" || !diagnosis.transient;
}

/**
 * Schedule the next attempt (exponential backoff, full jitter, bounded by the policy) or give up.
 * A newer approved digest waiting for the service supersedes the retry: no point redeploying the
 * older one first.
 */
export function planRetry(
  deps: GantryDeps,
  release: Release,
  reasons: string[],
  waitingDigest: string | undefined,
  /** `api`: UpdateService itself was refused transiently; `deployment`: the deployment failed. */
  cause: "deployment" | "api" = "deployment",
): Outcome {
  if (waitingDigest && waitingDigest !== release.digest) {
    return {
      release: { ...release, state: "superseded" },
      effects: [
        {
          type: "supersede",
          ...ref(release),
          reasons: [...reasons, `newer digest ${waitingDigest} is waiting`],
          message: "not retried: a newer approved digest replaces it",
        },
      ],
    };
  }
  const retry = deps.config.policies[release.policyName]?.retry ?? DEFAULT_RETRY;
  const attempts = release.attempts ?? 1;
  const apiErrors = release.apiErrors ?? 0;
  // Each budget counts only its own kind: a throttled UpdateService never started a deployment.
  const deployments = attempts - apiErrors;
  const exhausted =
    cause === "api"
      ? apiErrors >= retry.maxApiErrors &&
        `UpdateService refused ${apiErrors} times (budget ${retry.maxApiErrors})`
      : deployments >= retry.maxAttempts && `${deployments} of ${retry.maxAttempts} attempts failed`;
  if (exhausted) {
    return {
      release: { ...release, state: "failed" },
      effects: [
        {
          type: "giveup",
          ...ref(release),
          level: "failure",
          attempts,
          reasons: [exhausted, ...reasons],
          message:
            cause === "api"
              ? `gave up: App Runner kept refusing UpdateService; the previous version keeps running`
              : `gave up after ${deployments} attempts; the previous version keeps running`,
        },
      ],
    };
  }
  const delaySeconds = fullJitterDelaySeconds(retry, attempts, deps.random);
  const at = new Date(deps.clock.now().getTime() + delaySeconds * 1000);
  return {
    release: { ...release, state: "retrying", nextAttemptAt: at.toISOString() },
    effects: [
      {
        type: "retry",
        ...ref(release),
        level: "warning",
        attempt: attempts + 1,
        delaySeconds,
        retryAt: at.toISOString(),
        reasons,
        message:
          cause === "api"
            ? `UpdateService again in ${formatDuration(delaySeconds)} (API error ${apiErrors} of ${retry.maxApiErrors})`
            : `attempt ${deployments + 1} of ${retry.maxAttempts} in ${formatDuration(delaySeconds)}`,
      },
    ],
    retry: {
      job: {
        kind: "redeploy",
        serviceArn: release.serviceArn,
        digest: release.digest,
        attempt: attempts + 1,
      },
      at,
    },
  };
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
