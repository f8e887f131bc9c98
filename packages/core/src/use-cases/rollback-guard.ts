import type { Release } from "../release.ts";

/**
 * What a rollback offered for one release (a Slack button) may do, judged from the ledger alone:
 * go back to the last good release, and only while the release it was offered for is still the
 * last thing that happened to the service. The same rules decide whether the button is shown and
 * whether a press is applied, so a press is refused exactly when a fresh headline would no longer
 * offer it.
 */

/**
 * When Gantry last put this release on its way to the service: its newest deploy attempt, or a
 * person choosing it (an approval, a rollback to it), whichever is later. A release Gantry never
 * moved has none.
 */
export function movedAt(release: Release): string | undefined {
  const times = [release.deployStartedAt, release.override?.at].filter(
    (time): time is string => time !== undefined,
  );
  return times.sort().at(-1);
}

/**
 * The release that moved after `fromDigest` did (the newest such), or undefined while `fromDigest`
 * is still the last release Gantry deployed or a person chose. Ties count as moved on: refusing is
 * the safe side.
 */
export function movedOnSince(releases: readonly Release[], fromDigest: string): Release | undefined {
  const from = releases.find((release) => release.digest === fromDigest);
  if (!from) return undefined;
  const since = movedAt(from) ?? "";
  let newest: Release | undefined;
  for (const release of releases) {
    if (release.digest === fromDigest) continue;
    const at = movedAt(release);
    if (at === undefined || at < since) continue;
    if (!newest || at > (movedAt(newest) ?? "")) newest = release;
  }
  return newest;
}

/**
 * The digest "Roll back to last good" goes to from `fromDigest`: the release that went live most
 * recently, other than `fromDigest` itself and not quarantined. Undefined when there is none or the
 * service has moved on since `fromDigest` (the rollback would no longer be about it).
 */
export function lastGoodBefore(releases: readonly Release[], fromDigest: string): string | undefined {
  if (movedOnSince(releases, fromDigest)) return undefined;
  let best: Release | undefined;
  for (const release of releases) {
    if (release.digest === fromDigest || release.state !== "deployed") continue;
    if (release.quarantine && !release.quarantine.liftedBy) continue;
    if (!best || liveSince(release) > liveSince(best)) best = release;
  }
  return best?.digest;
}

function liveSince(release: Release): string {
  return release.deployEndedAt ?? release.deployStartedAt ?? release.pushedAt;
}

/** Why a rollback offered for `fromDigest` no longer applies, in words for the person who asked. */
export function movedOnReason(serviceName: string, fromDigest: string, mover: Release): string {
  const at = movedAt(mover);
  const chosen = mover.override && mover.override.at === at ? mover.override : undefined;
  const what = !chosen
    ? `${mover.digest} was deployed at ${at}`
    : chosen.reason.startsWith("rollback:")
      ? `${mover.digest} was rolled back to by ${chosen.actor} at ${at}`
      : `${mover.digest} was approved by ${chosen.actor} at ${at}`;
  return `${serviceName} has moved on since ${fromDigest}: ${what}; nothing was changed`;
}
