import type { JournalEntry } from "../ports.ts";
import type { Release, ReleaseState } from "../release.ts";
import { lastGoodBefore } from "../use-cases/rollback-guard.ts";
import type { SlackNotification } from "./notification.ts";

/** Journal keys the Slack "Keep blocked" decision is recorded under (see keepReleaseBlocked). */
export const KEEP_BLOCKED_KEY_PREFIX = "keep-blocked#";

/**
 * The thread's first message, edited in place: where the release stands now. Built from the
 * ledger (the truth, whatever order notifications arrived in); from the notification alone only
 * when the ledger has no such release.
 */
export interface Headline {
  service: string;
  serviceArn?: string;
  digest?: string;
  state: ReleaseState | "unknown";
  /** `repo:tag` the digest was pushed as. */
  image?: string;
  policy?: string;
  operationId?: string;
  /** Why it stands where it does: gate violations, the failure. */
  reasons: string[];
  approvedBy?: { actor: string; reason: string };
  keptBlockedBy?: { actor: string; at: string };
  /** After a rollback: true while quarantined, false once lifted, unset when unknown. */
  quarantined?: boolean;
  /**
   * The digest "Roll back to last good" deploys from this failed release: the last release that
   * went live, while the service has not moved on since this one. Unset: no such button.
   */
  rollbackTo?: string;
  updatedAt: string;
}

/** `serviceReleases`: every release of the service, to find the last good one for a failed release. */
export function headlineFromRelease(
  release: Release,
  journal: readonly JournalEntry[],
  serviceReleases: readonly Release[] = [],
): Headline {
  const quarantine = release.quarantine;
  const keptBlocked = release.state === "blocked" ? latestKeepBlocked(journal, release.digest) : undefined;
  const rollbackTo = FAILED.has(release.state) ? lastGoodBefore(serviceReleases, release.digest) : undefined;
  return {
    service: release.serviceName,
    serviceArn: release.serviceArn,
    digest: release.digest,
    state: release.state,
    ...(release.tags[0] ? { image: `${release.repository}:${release.tags[0]}` } : {}),
    policy: release.policyName,
    ...(release.operationId ? { operationId: release.operationId } : {}),
    reasons: headlineReasons(release),
    ...(release.override
      ? { approvedBy: { actor: release.override.actor, reason: release.override.reason } }
      : {}),
    ...(keptBlocked ? { keptBlockedBy: keptBlocked } : {}),
    ...(quarantine ? { quarantined: !quarantine.liftedBy } : {}),
    ...(rollbackTo ? { rollbackTo } : {}),
    updatedAt: sinceOf(release),
  };
}

/** When the release last moved: stable while it stays put, so an unchanged headline is not edited. */
function sinceOf(release: Release): string {
  return (
    release.deployEndedAt ??
    release.deployStartedAt ??
    release.override?.at ??
    release.decision?.decidedAt ??
    release.pushedAt
  );
}

function headlineReasons(release: Release): string[] {
  if (release.state === "blocked") return release.decision?.violations ?? [];
  if (FAILED.has(release.state) || release.state === "retrying") {
    return release.failure ? [`${release.failure.cause}: ${release.failure.summary}`] : [];
  }
  return [];
}

const FAILED: ReadonlySet<Headline["state"]> = new Set(["failed", "rolled-back", "rollback-failed"]);

/** A release in these states offers "Roll back to last good" (when a last good one is known). */
export function offersRollback(state: Headline["state"]): boolean {
  return FAILED.has(state);
}

/** The newest "Keep blocked" for this digest (journal is newest first). */
function latestKeepBlocked(journal: readonly JournalEntry[], digest: string) {
  const entry = journal.find(
    (candidate) => candidate.digest === digest && candidate.key.startsWith(KEEP_BLOCKED_KEY_PREFIX),
  );
  return entry ? { actor: entry.actor ?? "someone", at: entry.at } : undefined;
}

/** Best effort for a release the ledger does not know (or a message about no release at all). */
export function headlineFromNotification(notification: SlackNotification): Headline {
  return {
    service: notification.service ?? "Gantry",
    ...(notification.serviceArn ? { serviceArn: notification.serviceArn } : {}),
    ...(notification.digest ? { digest: notification.digest } : {}),
    state: stateOf(notification),
    ...(notification.operationId ? { operationId: notification.operationId } : {}),
    reasons: notification.reasons,
    updatedAt: notification.at,
  };
}

function stateOf(notification: SlackNotification): Headline["state"] {
  switch (notification.kind) {
    case "block":
      return "blocked";
    case "allow":
      return "awaiting-scan";
    case "approve":
    case "wait":
      return "waiting";
    case "deploy":
      return "deploying";
    case "supersede":
      return "superseded";
    case "rollback":
      return "rolled-back";
    case "retry":
      return "retrying";
    case "outcome": {
      const outcome = notification.outcome;
      if (outcome === "deployed" || outcome === "failed" || outcome === "rolled-back") return outcome;
      return notification.level === "info" ? "deployed" : "failed";
    }
    default:
      return "unknown";
  }
}

export type HeadlineAction = "approve-once" | "keep-blocked" | "rollback" | "lift-quarantine";

/** Buttons the headline offers: a decision on a blocked release, a way back from a rolled-back one. */
export function headlineActions(headline: Headline): HeadlineAction[] {
  if (!headline.serviceArn || !headline.digest) return [];
  if (headline.state === "blocked" && !headline.keptBlockedBy) return ["approve-once", "keep-blocked"];
  const actions: HeadlineAction[] = [];
  // Only with a known target: the button deploys exactly the digest it names.
  if (FAILED.has(headline.state) && headline.rollbackTo) actions.push("rollback");
  if (headline.quarantined === true) actions.push("lift-quarantine");
  return actions;
}

/** Change detection for the headline (not security): FNV-1a over the rendered JSON, 2 × 32 bits. */
export function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x5bd1e995) >>> 0;
  }
  return `${a.toString(16).padStart(8, "0")}${b.toString(16).padStart(8, "0")}`;
}
