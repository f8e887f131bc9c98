import type { Effect } from "../effects.ts";
import { parseImageIdentifier } from "../image-ref.ts";
import type { GantryDeps } from "../ports.ts";
import type { Release } from "../release.ts";
import { withConflictRetry } from "./conflict-retry.ts";
import { deployOrQueue, journal } from "./deploy-slot.ts";
import { decide } from "./gated-deploy.ts";
import { movedOnReason, movedOnSince } from "./rollback-guard.ts";

interface PersonAct {
  serviceArn: string;
  actor: string;
  reason: string;
}

function requireReason(reason: string): void {
  if (!reason.trim()) throw new Error("a reason is required: it is recorded with who did it");
}

/**
 * `gantry quarantine lift`: a person lets a rolled-back digest back in. Its recorded scan is judged
 * again by today's policy, so a lifted digest still passes the gate before it deploys.
 */
export async function liftQuarantine(
  deps: GantryDeps,
  input: PersonAct & { digest: string },
): Promise<Effect[]> {
  requireReason(input.reason);
  const lifted = await withConflictRetry(async () => {
    const release = await deps.ledger.getRelease(input.serviceArn, input.digest);
    if (!release?.quarantine || release.quarantine.liftedBy) {
      throw new Error(`${input.digest} is not quarantined for ${input.serviceArn}`);
    }
    const at = deps.clock.now().toISOString();
    const effect: Effect = {
      type: "quarantine",
      action: "lift",
      service: release.serviceName,
      serviceArn: release.serviceArn,
      digest: release.digest,
      actor: input.actor,
      level: "warning",
      reasons: [`lifted by ${input.actor}: ${input.reason}`],
      message: "quarantine lifted; the digest is judged by the gate again",
    };
    const updated: Release = {
      ...release,
      state: "awaiting-scan",
      attempts: 0,
      apiErrors: 0,
      quarantine: { ...release.quarantine, liftedBy: { actor: input.actor, reason: input.reason, at } },
      version: release.version + 1,
    };
    await deps.ledger.commit([
      { kind: "update-release", release: updated, expectedVersion: release.version },
      journal(deps, release, effect, `lift#${release.digest}#${at}`),
    ]);
    return { effect, release: updated };
  });
  // The newest evidence decides: a rescan since the rollback may have found (or cleared) findings.
  const stored = await deps.ledger.getScan(lifted.release.repository, lifted.release.digest);
  const recorded = lifted.release.scan;
  const scan =
    stored?.scannedAt && (!recorded?.scannedAt || stored.scannedAt > recorded.scannedAt)
      ? stored
      : (recorded ?? stored);
  const decided = scan ? await decide(deps, input.serviceArn, input.digest, scan) : [];
  return [lifted.effect, ...decided];
}

/**
 * `gantry rollback <service> [--to <digest>]`: deploy a known-good digest again (default: the
 * newest deployed release that is not the one running now). Recorded like an approval.
 *
 * `fromDigest` (Slack's "Roll back to last good", made for one failed release): only while that
 * release is still the last one Gantry deployed or a person chose; otherwise nothing changes and
 * the refusal says what happened since. The commit also moves `fromDigest`'s version, so of two
 * presses at once (two invocations) one commit fails its condition, re-reads and is refused.
 */
export async function rollbackService(
  deps: GantryDeps,
  input: PersonAct & { toDigest?: string; fromDigest?: string },
): Promise<Effect[]> {
  requireReason(input.reason);
  const target = await withConflictRetry(async () => {
    const releases = await deps.ledger.releasesByService(input.serviceArn);
    const from = input.fromDigest ? notMovedOn(releases, input.serviceArn, input.fromDigest) : undefined;
    if (from && from.digest === input.toDigest) {
      throw new Error(`cannot roll back ${from.digest} to itself; nothing was changed`);
    }
    const running = runningDigest((await deps.appRunner.describeService(input.serviceArn)).imageIdentifier);
    const release = input.toDigest
      ? releases.find((candidate) => candidate.digest === input.toDigest)
      : releases.find((candidate) => candidate.state === "deployed" && candidate.digest !== running);
    if (!release) {
      throw new Error(
        input.toDigest
          ? `no release ${input.toDigest} is recorded for ${input.serviceArn}`
          : `no earlier good release of ${input.serviceArn} is recorded: name one with --to <digest>`,
      );
    }
    if (release.quarantine && !release.quarantine.liftedBy) {
      throw new Error(`${release.digest} is quarantined; lift it first (gantry quarantine lift)`);
    }
    if (release.digest === running)
      throw new Error(`${release.digest} is already running on ${release.serviceName}`);
    const at = deps.clock.now().toISOString();
    const effect: Effect = {
      type: "rollback",
      manual: true,
      service: release.serviceName,
      serviceArn: release.serviceArn,
      digest: release.digest,
      actor: input.actor,
      level: "warning",
      reasons: [`requested by ${input.actor}: ${input.reason}`],
      message: `rolling back to ${release.digest}`,
    };
    await deps.ledger.commit([
      {
        kind: "update-release",
        release: {
          ...release,
          state: "waiting",
          attempts: 0,
          apiErrors: 0,
          override: { actor: input.actor, reason: `rollback: ${input.reason}`, at },
          version: release.version + 1,
        },
        expectedVersion: release.version,
      },
      journal(deps, release, effect, `rollback#${release.digest}#${at}`),
      ...(from
        ? [
            {
              kind: "update-release" as const,
              release: { ...from, version: from.version + 1 },
              expectedVersion: from.version,
            },
          ]
        : []),
    ]);
    return { effect, digest: release.digest };
  });
  return [target.effect, ...(await deployOrQueue(deps, input.serviceArn, target.digest))];
}

/** The release a rollback was offered for, as long as nothing has moved on since. */
function notMovedOn(releases: readonly Release[], serviceArn: string, fromDigest: string): Release {
  const from = releases.find((candidate) => candidate.digest === fromDigest);
  if (!from) throw new Error(`no release ${fromDigest} is recorded for ${serviceArn}; nothing was changed`);
  const mover = movedOnSince(releases, fromDigest);
  if (mover) throw new Error(movedOnReason(from.serviceName, fromDigest, mover));
  return from;
}

function runningDigest(imageIdentifier: string): string | undefined {
  try {
    return parseImageIdentifier(imageIdentifier).digest;
  } catch {
    return undefined;
  }
}
