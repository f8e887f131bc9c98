import type { ImagePushed, ImageScanCompleted } from "../domain-events.ts";
import type { Effect } from "../effects.ts";
import type { GatePolicy } from "../gantry-config.ts";
import { policyVersion } from "../gantry-config.ts";
import { evaluateGate, needsFindingIds, needsFreshEvidence, type ScanEvidence } from "../gate.ts";
import { ecrRegistry } from "../image-ref.ts";
import { currentTag, resolvePolicy, tracksRepository } from "../managed-services.ts";
import type { GantryDeps, LedgerWrite, ManagedService } from "../ports.ts";
import type { Release, ScanRecord } from "../release.ts";
import { followsTag } from "../tag-following.ts";
import { withConflictRetry } from "./conflict-retry.ts";
import { deployOrQueue, journal, unqueue } from "./deploy-slot.ts";

/**
 * ECR push → one release candidate per managed service that tracks the repository and follows the
 * pushed tag. Idempotent on service + digest. A scan that arrived first is applied at once.
 */
export async function onImagePushed(deps: GantryDeps, event: ImagePushed): Promise<Effect[]> {
  const image = { account: event.account, region: event.region, repositoryName: event.repositoryName };
  const services = (await deps.appRunner.listManagedServices()).filter((service) =>
    tracksRepository(service, image),
  );
  if (services.length === 0) {
    // Name the registry: a push from another account or region never matches this one's services.
    const registry = ecrRegistry(event.account, event.region);
    return [ignore(event.digest, `no managed service runs ${registry}/${event.repositoryName}`)];
  }
  const effects: Effect[] = [];
  for (const service of services) effects.push(...(await candidateFor(deps, service, event)));
  return effects;
}

async function candidateFor(
  deps: GantryDeps,
  service: ManagedService,
  event: ImagePushed,
): Promise<Effect[]> {
  const resolution = resolvePolicy(deps.config, service);
  if (!resolution.ok) {
    return [
      {
        type: "notify",
        level: "warning",
        service: service.serviceName,
        serviceArn: service.serviceArn,
        digest: event.digest,
        reasons: [resolution.reason],
        message: "push ignored: the service's policy is unknown",
      },
    ];
  }
  const tags = event.tag ? [event.tag] : [];
  const history = await deps.ledger.releasesByService(service.serviceArn);
  // Candidates exist only for followed tags, so the newest one remembers the tag a pinned service follows.
  const followed = currentTag(service, history.find((release) => release.tags.length > 0)?.tags);
  if (!followsTag(resolution.policy.follow, tags, followed)) {
    const why = event.tag
      ? `tag "${event.tag}" is not followed by policy ${resolution.policyName}`
      : "untagged push";
    return [{ ...ignore(event.digest, why), service: service.serviceName, serviceArn: service.serviceArn }];
  }

  const effects: Effect[] = [];
  if (service.autoDeploymentsEnabled) {
    effects.push({
      type: "drift",
      level: "warning",
      service: service.serviceName,
      serviceArn: service.serviceArn,
      reasons: ["App Runner auto-deploy is on: pushes deploy before any scan, bypassing the gate"],
      message:
        "auto-deploy will be switched off by Gantry's next deploy (it deploys by digest with auto-deploy off)",
    });
  }

  const release: Release = {
    serviceArn: service.serviceArn,
    serviceName: service.serviceName,
    digest: event.digest,
    registry: ecrRegistry(event.account, event.region),
    repository: event.repositoryName,
    tags,
    policyName: resolution.policyName,
    policyVersion: policyVersion(resolution.policy),
    state: "awaiting-scan",
    pushedAt: event.time.toISOString(),
    version: 1,
  };
  const candidate: Effect = {
    type: "candidate",
    service: service.serviceName,
    serviceArn: service.serviceArn,
    digest: event.digest,
    message: `release candidate ${event.repositoryName}${event.tag ? `:${event.tag}` : ""}, awaiting scan`,
  };
  const existing = await deps.ledger.getRelease(service.serviceArn, event.digest);
  if (existing?.quarantine && !existing.quarantine.liftedBy) {
    const reason = `digest is quarantined for ${service.serviceName} since ${existing.quarantine.since}: ${existing.quarantine.reason}`;
    return [
      ...effects,
      { ...ignore(event.digest, reason), service: service.serviceName, serviceArn: service.serviceArn },
    ];
  }
  const created = !existing && (await createIfAbsent(deps, release, candidate));
  if (created) effects.push(candidate);

  const scan = await deps.ledger.getScan(event.repositoryName, event.digest);
  if (scan) effects.push(...(await decide(deps, service.serviceArn, event.digest, scan)));
  return effects;
}

async function createIfAbsent(deps: GantryDeps, release: Release, effect: Effect): Promise<boolean> {
  if (await deps.ledger.getRelease(release.serviceArn, release.digest)) return false;
  try {
    await deps.ledger.commit([
      { kind: "put-release", release },
      journal(deps, release, effect, `candidate#${release.digest}`),
    ]);
    return true;
  } catch (error) {
    if ((error as Error).name === "LedgerConflictError") return false; // a duplicate delivery won
    throw error;
  }
}

/** Scan finished (either order with the push): record it, then decide every candidate it concerns. */
export async function onImageScanned(deps: GantryDeps, event: ImageScanCompleted): Promise<Effect[]> {
  const record: ScanRecord = {
    repository: event.repositoryName,
    digest: event.digest,
    tags: event.tags,
    scanner: event.scanner,
    scanStatus: event.scanStatus,
    succeeded: event.succeeded,
    severityCounts: event.severityCounts,
    scannedAt: event.time.toISOString(),
    ...(event.reportedTotal !== undefined ? { reportedTotal: event.reportedTotal } : {}),
    receivedAt: deps.clock.now().toISOString(),
  };
  await deps.ledger.putScan(record);
  // The newest scan decides: a late delivery of an older result is judged by the newer one stored.
  const scan = (await deps.ledger.getScan(event.repositoryName, event.digest)) ?? record;
  const releases = (await deps.ledger.releasesByDigest(event.digest)).filter(
    (release) => release.repository === event.repositoryName,
  );
  if (releases.length === 0) {
    return [ignore(event.digest, "scan recorded; no release candidate for this image (yet)")];
  }
  const effects: Effect[] = [];
  for (const release of releases)
    effects.push(...(await decide(deps, release.serviceArn, release.digest, scan)));
  return effects;
}

/**
 * Decided releases that newer evidence judges again, unless a person chose them: approved and not
 * yet deploying, or blocked (a rescan may clear what blocked them).
 */
const REJUDGED = new Set(["blocked", "waiting", "retrying"]);

function isNewerScan(scan: ScanEvidence, than: ScanEvidence | undefined): boolean {
  return scan.scannedAt !== undefined && (than?.scannedAt === undefined || scan.scannedAt > than.scannedAt);
}

/**
 * Gate decision for one candidate, then deploy or block. A candidate awaiting its scan is decided;
 * a decided one only again on newer evidence (a rescan found new findings, or cleared old ones).
 */
export async function decide(
  deps: GantryDeps,
  serviceArn: string,
  digest: string,
  scan: ScanEvidence,
): Promise<Effect[]> {
  const decided = await withConflictRetry(async () => {
    const release = await deps.ledger.getRelease(serviceArn, digest);
    if (!release) return undefined;
    const first = release.state === "awaiting-scan";
    if (!first && (!REJUDGED.has(release.state) || release.override || !isNewerScan(scan, release.scan)))
      return undefined;
    const policy = deps.config.policies[release.policyName];
    if (!policy) return undefined;
    const now = deps.clock.now();
    let evidence = await freshEvidence(deps, release, policy, scan, now);
    if (needsFindingIds(policy, evidence, now)) {
      evidence = {
        ...evidence,
        findings: await deps.findings.listFindings({
          repository: release.repository,
          digest,
          scanner: evidence.scanner,
        }),
      };
    }
    const decision = evaluateGate(policy, evidence, now);
    const blocked = decision.verdict === "block";
    const changed = first || blocked !== (release.state === "blocked");
    const state = blocked ? "blocked" : release.state === "blocked" ? "awaiting-scan" : release.state;
    const updated: Release = {
      ...release,
      scan: { ...evidence },
      decision: { ...decision, decidedAt: now.toISOString() },
      state,
      version: release.version + 1,
    };
    const writes: LedgerWrite[] = [
      { kind: "update-release", release: updated, expectedVersion: release.version },
    ];
    const effect: Effect = {
      type: blocked ? "block" : "allow",
      service: release.serviceName,
      serviceArn,
      digest,
      level: blocked ? "warning" : decision.violations.length ? "warning" : "info",
      reasons: blocked
        ? decision.violations
        : decision.violations.map((violation) => `would have blocked (audit mode): ${violation}`),
      notes: decision.notes,
      policy: release.policyName,
      message: blocked
        ? `blocked by policy ${release.policyName}${first ? "" : " on a newer scan"}`
        : decision.violations.length
          ? `audit mode: allowed, but policy ${release.policyName} would have blocked it`
          : `scan passed policy ${release.policyName}${first ? "" : " on a newer scan"}`,
    };
    if (changed) writes.push(journal(deps, release, effect, `decision#${digest}`));
    // It was queued behind a running operation: it must not deploy when that ends.
    if (blocked && release.state === "waiting")
      writes.push(...unqueue(await deps.ledger.getSlot(serviceArn), digest));
    await deps.ledger.commit(writes);
    return { effect: changed ? effect : undefined, deploy: !blocked && state === "awaiting-scan" };
  });
  if (!decided) return [];
  const effects = decided.effect ? [decided.effect] : [];
  if (!decided.deploy) return effects;
  return [...effects, ...(await deployOrQueue(deps, serviceArn, digest))];
}

/**
 * The evidence the gate may decide on. A scan older than the policy's `maxScanAgeDays`, or one whose
 * severity counts do not add up to its TOTAL, is checked against ECR's own answer first
 * (DescribeImageScanFindings returns every severity's count and the completion time:
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageScanFindings.html).
 * What ECR cannot improve is judged as it is, and the gate fails closed on it.
 */
async function freshEvidence(
  deps: GantryDeps,
  release: Release,
  policy: GatePolicy,
  scan: ScanEvidence,
  now: Date,
): Promise<ScanEvidence> {
  if (!needsFreshEvidence(policy, scan, now)) return scan;
  const answer = await deps.findings.describeScan({ repository: release.repository, digest: release.digest });
  if (!answer?.succeeded) return scan;
  const fresh: ScanEvidence = {
    ...answer,
    scannedAt: [answer.scannedAt, scan.scannedAt]
      .filter((time) => time !== undefined)
      .sort()
      .at(-1),
  };
  await deps.ledger.putScan({
    ...fresh,
    repository: release.repository,
    digest: release.digest,
    tags: release.tags,
    receivedAt: now.toISOString(),
  });
  return fresh;
}

/** `gantry approve`: a person deploys a blocked digest; who and why are recorded. */
export async function approveRelease(
  deps: GantryDeps,
  input: { serviceArn: string; digest: string; actor: string; reason: string },
): Promise<Effect[]> {
  if (!input.reason.trim()) throw new Error("an approval needs a reason");
  const approved = await withConflictRetry(async () => {
    const release = await deps.ledger.getRelease(input.serviceArn, input.digest);
    if (!release) throw new Error(`no release ${input.digest} recorded for ${input.serviceArn}`);
    if (release.quarantine && !release.quarantine.liftedBy) {
      throw new Error(
        `${release.serviceName}@${input.digest} is quarantined (rolled back: ${release.quarantine.reason}); lift it first: gantry quarantine lift`,
      );
    }
    if (release.state !== "blocked" && release.state !== "awaiting-scan") {
      throw new Error(
        `release ${release.serviceName}@${input.digest} is ${release.state}; only blocked or awaiting-scan releases can be approved`,
      );
    }
    const at = deps.clock.now().toISOString();
    const effect: Effect = {
      type: "approve",
      service: release.serviceName,
      serviceArn: release.serviceArn,
      digest: input.digest,
      actor: input.actor,
      level: "warning",
      reasons: [`approved by ${input.actor}: ${input.reason}`],
      message: `override: ${input.actor} approved a ${release.state} release`,
    };
    await deps.ledger.commit([
      {
        kind: "update-release",
        release: {
          ...release,
          state: "waiting",
          override: { actor: input.actor, reason: input.reason, at },
          version: release.version + 1,
        },
        expectedVersion: release.version,
      },
      journal(deps, release, effect, `approve#${input.digest}#${at}`),
    ]);
    return effect;
  });
  return [approved, ...(await deployOrQueue(deps, input.serviceArn, input.digest))];
}

/**
 * Reconciler step: candidates whose scan never arrived. Ask the scanner directly first (only the
 * event may have been lost); past the policy's timeout with still no result, block (fail closed).
 */
export async function expireScanTimeouts(
  deps: GantryDeps,
  lookupScan: (release: Release) => Promise<ScanEvidence | undefined>,
  serviceArns: string[],
): Promise<Effect[]> {
  const effects: Effect[] = [];
  const now = deps.clock.now();
  for (const serviceArn of serviceArns) {
    for (const release of await deps.ledger.releasesByService(serviceArn)) {
      if (release.state !== "awaiting-scan") continue;
      const policy = deps.config.policies[release.policyName];
      if (!policy) continue;
      const found = await lookupScan(release);
      if (found) {
        effects.push(...(await decide(deps, serviceArn, release.digest, found)));
        continue;
      }
      const ageMinutes = (now.getTime() - new Date(release.pushedAt).getTime()) / 60_000;
      if (ageMinutes < policy.scanTimeoutMinutes) continue;
      effects.push(
        ...(await decide(deps, serviceArn, release.digest, {
          scanner: "basic",
          scanStatus: `TIMED_OUT after ${policy.scanTimeoutMinutes} min`,
          succeeded: false,
          severityCounts: { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 },
        })),
      );
    }
  }
  return effects;
}

function ignore(digest: string, reason: string): Effect {
  return { type: "ignore", digest, reasons: [reason], message: reason };
}
