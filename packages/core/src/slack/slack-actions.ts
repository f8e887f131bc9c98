import type { Effect } from "../effects.ts";
import type { GantryDeps } from "../ports.ts";
import { withConflictRetry } from "../use-cases/conflict-retry.ts";
import { journal } from "../use-cases/deploy-slot.ts";
import { approveRelease } from "../use-cases/gated-deploy.ts";
import { liftQuarantine, rollbackService } from "../use-cases/quarantine.ts";
import type { HeadlineAction } from "./headline.ts";
import { KEEP_BLOCKED_KEY_PREFIX } from "./headline.ts";

/**
 * A button pressed in Slack, applied through the same use cases as the CLI, with the Slack user as
 * the recorded actor. Refusals (e.g. the release is no longer blocked) are thrown, as from the CLI.
 * Every action is safe to press twice, or twice at once: each checks, under a conditional ledger
 * write, that the release is still where the message showed it.
 */
export async function applySlackAction(
  deps: GantryDeps,
  input: { action: HeadlineAction; serviceArn: string; digest: string; rollbackTo?: string; actor: string },
): Promise<Effect[]> {
  const target = { serviceArn: input.serviceArn, digest: input.digest, actor: input.actor };
  switch (input.action) {
    case "approve-once":
      return approveRelease(deps, { ...target, reason: "approved once in Slack" });
    case "keep-blocked":
      return keepReleaseBlocked(deps, { ...target, reason: "kept blocked in Slack" });
    case "rollback":
      // Exactly the digest the message named, and only while the service has not moved on from
      // the release the message is about (a second or stale press changes nothing).
      if (!input.rollbackTo) throw new Error(untargetedRollback(input.serviceArn));
      return rollbackService(deps, {
        serviceArn: input.serviceArn,
        actor: input.actor,
        reason: `rolled back from ${input.digest} in Slack`,
        toDigest: input.rollbackTo,
        fromDigest: input.digest,
      });
    case "lift-quarantine":
      return liftQuarantine(deps, { ...target, reason: "quarantine lifted in Slack" });
  }
}

/**
 * A button on a message posted before buttons named their target: what it meant ("the last good
 * digest" as of some earlier time) cannot be known now, so it is refused rather than guessed.
 */
function untargetedRollback(serviceArn: string): string {
  const service = serviceArn.split("/")[1] ?? serviceArn;
  return (
    "this message is older than Gantry's exact rollbacks and does not say which digest to roll back to: " +
    `use the button on a newer message, or \`gantry rollback ${service} --to <digest>\`; nothing was changed`
  );
}

/**
 * "Keep blocked": a person looked at a blocked release and decided against an override. Nothing
 * moves; the decision is journaled (who, when, why) and the headline stops offering the buttons.
 */
export async function keepReleaseBlocked(
  deps: GantryDeps,
  input: { serviceArn: string; digest: string; actor: string; reason: string },
): Promise<Effect[]> {
  if (!input.reason.trim()) throw new Error("keeping a release blocked needs a reason");
  return withConflictRetry(async () => {
    const release = await deps.ledger.getRelease(input.serviceArn, input.digest);
    if (!release) throw new Error(`no release ${input.digest} recorded for ${input.serviceArn}`);
    if (release.state !== "blocked") {
      throw new Error(`release ${release.serviceName}@${input.digest} is ${release.state}, not blocked`);
    }
    const at = deps.clock.now().toISOString();
    const effect: Effect = {
      type: "block",
      level: "info",
      service: release.serviceName,
      serviceArn: release.serviceArn,
      digest: release.digest,
      actor: input.actor,
      reasons: [`kept blocked by ${input.actor}: ${input.reason}`],
      message: `${input.actor} kept the release blocked`,
    };
    await deps.ledger.commit([
      journal(deps, release, effect, `${KEEP_BLOCKED_KEY_PREFIX}${input.digest}#${at}`),
    ]);
    return [effect];
  });
}
