import type { GantryDeps, JournalEntry } from "../ports.ts";
import type { Release } from "../release.ts";

/**
 * A service's releases and journal across every ARN it had: a recreate gives it a new ARN, and
 * the ledger keys both by ARN (`ServiceRecord.previousArns` links them). Newest first; a digest
 * carried over to a newer ARN (a quarantine) is shown once, as the newest ARN has it.
 */
export async function serviceHistory(
  deps: GantryDeps,
  service: { serviceName: string; serviceArn: string },
  limit = 100,
): Promise<{ serviceArns: string[]; releases: Release[]; journal: JournalEntry[] }> {
  const record = await deps.ledger.getServiceRecord(service.serviceName);
  const serviceArns = [...new Set([service.serviceArn, ...(record?.previousArns ?? [])])];
  const releases = new Map<string, Release>();
  const journal: JournalEntry[] = [];
  for (const serviceArn of serviceArns) {
    for (const release of await deps.ledger.releasesByService(serviceArn)) {
      if (!releases.has(release.digest)) releases.set(release.digest, release);
    }
    journal.push(...(await deps.ledger.history(serviceArn, limit)));
  }
  return {
    serviceArns,
    releases: [...releases.values()].sort(
      (a, b) => b.pushedAt.localeCompare(a.pushedAt) || b.digest.localeCompare(a.digest),
    ),
    journal: journal.sort((a, b) => b.at.localeCompare(a.at) || b.key.localeCompare(a.key)).slice(0, limit),
  };
}
