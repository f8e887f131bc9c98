import type { Effect } from "../effects.ts";
import { imageIdentifierByDigest } from "../image-ref.ts";
import { isManaged, TAG_MANAGED } from "../managed-services.ts";
import type { GantryDeps, JournalEntry, LedgerWrite, RetryJob } from "../ports.ts";
import { type Release, type ServiceSlot, TERMINAL_STATES } from "../release.ts";
import { withConflictRetry } from "./conflict-retry.ts";
import { deployOutcome, type Outcome, planRetry } from "./deploy-outcome.ts";

const RUNNING_OPERATION = new Set(["PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"]);
const CLAIM_PREFIX = "claim:";
/** States from which a release may start deploying (a blocked one only after an approval moved it to waiting). */
const DEPLOYABLE = new Set(["waiting", "awaiting-scan", "retrying"]);
/** A claim normally lives for one UpdateService call; older than this, its handler died. */
const STALE_CLAIM_MS = 10 * 60_000;

export function journal(
  deps: GantryDeps,
  release: Pick<Release, "serviceArn" | "serviceName" | "digest">,
  effect: Effect,
  key: string,
): LedgerWrite {
  const entry: JournalEntry = {
    serviceArn: release.serviceArn,
    serviceName: release.serviceName,
    at: deps.clock.now().toISOString(),
    type: effect.type,
    digest: release.digest,
    key,
    ...(effect.operationId ? { operationId: effect.operationId } : {}),
    ...(effect.reasons ? { reasons: effect.reasons } : {}),
    ...(effect.message ? { message: effect.message } : {}),
    ...(typeof effect.actor === "string" ? { actor: effect.actor } : {}),
  };
  return { kind: "journal", entry };
}

function emptySlot(serviceArn: string): ServiceSlot {
  return { serviceArn, version: 0 };
}

/**
 * An approved release either deploys now or waits for the service's running operation; a newer
 * waiting digest supersedes an older one, so no deploy is lost and none runs twice. "Newer" is push
 * time, not approval order: scans finish in any order, and EventBridge does not order events
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event.html), so a late scan
 * of an older push must never replace a newer push that is waiting, deploying or live.
 */
export async function deployOrQueue(deps: GantryDeps, serviceArn: string, digest: string): Promise<Effect[]> {
  return withConflictRetry(async () => {
    const release = await deps.ledger.getRelease(serviceArn, digest);
    const slot = (await deps.ledger.getSlot(serviceArn)) ?? emptySlot(serviceArn);
    if (!release || !DEPLOYABLE.has(release.state)) return forgetWaiting(deps, slot, digest);
    // Its own claim: the claiming handler is calling UpdateService for it right now (a duplicate
    // event or a concurrent approval of the same digest). A dead claimer is the reconciler's job.
    if (slot.activeDigest === digest && slot.activeOperationId?.startsWith(CLAIM_PREFIX)) return [];
    const newer = await newerRelease(deps, release, slot);
    if (newer) return supersedeByNewer(deps, release, newer, slot);
    if (!slot.activeOperationId) return start(deps, release, slot);
    const operation = await findOperation(deps, serviceArn, slot.activeOperationId);
    if (operation && !RUNNING_OPERATION.has(operation.status)) {
      // Its event was lost or is late: settle it now (events are hints, the API is the truth).
      const settled = await settleOperation(deps, serviceArn, operation);
      return [...settled, ...(await deployOrQueue(deps, serviceArn, digest))];
    }
    // Running, not listed yet, or claimed by a handler about to call UpdateService: wait for it.
    return queue(deps, release, slot);
  });
}

/** The slot write that takes `digest` off the waiting place, if it holds it. */
export function unqueue(slot: ServiceSlot | undefined, digest: string): LedgerWrite[] {
  if (!slot || slot.waitingDigest !== digest) return [];
  return [
    {
      kind: "put-slot",
      slot: { ...slot, waitingDigest: undefined, version: slot.version + 1 },
      expectedVersion: slot.version,
    },
  ];
}

/** A digest that may no longer deploy (blocked, superseded, gone) must not stay queued on the slot. */
async function forgetWaiting(deps: GantryDeps, slot: ServiceSlot, digest: string): Promise<Effect[]> {
  const writes = unqueue(slot, digest);
  if (writes.length > 0) await deps.ledger.commit(writes);
  return [];
}

/** Releases a newer push must not be replaced by: approved and on their way, or live. */
const AHEAD = new Set(["waiting", "deploying", "deployed", "retrying"]);

/**
 * Push time orders releases; at the same push time (ECR event times have second resolution) the
 * later scan wins, as nothing says it is older.
 */
export function isNewerRelease(candidate: Release, than: Release): boolean {
  if (candidate.pushedAt !== than.pushedAt) return candidate.pushedAt > than.pushedAt;
  return scanTimeOf(candidate) > scanTimeOf(than);
}

function scanTimeOf(release: Release): string {
  return release.scan?.scannedAt ?? release.decision?.decidedAt ?? "";
}

/**
 * A newer push of the same service that is ahead of `release` (the slot's claimed digest counts: it
 * is being deployed right now). A person's choice (approval, rollback) is never overruled.
 */
async function newerRelease(
  deps: GantryDeps,
  release: Release,
  slot: ServiceSlot,
): Promise<Release | undefined> {
  if (release.override) return undefined;
  return (await deps.ledger.releasesByService(release.serviceArn)).find(
    (candidate) =>
      candidate.digest !== release.digest &&
      (AHEAD.has(candidate.state) || candidate.digest === slot.activeDigest) &&
      isNewerRelease(candidate, release),
  );
}

async function supersedeByNewer(
  deps: GantryDeps,
  release: Release,
  newer: Release,
  slot: ServiceSlot,
): Promise<Effect[]> {
  const effect: Effect = {
    type: "supersede",
    service: release.serviceName,
    serviceArn: release.serviceArn,
    digest: release.digest,
    reasons: [`${newer.digest} was pushed later (${newer.pushedAt}) and is ${newer.state}`],
    message: `${release.digest} will not deploy: a newer push replaces it`,
  };
  await deps.ledger.commit([
    {
      kind: "update-release",
      release: { ...release, state: "superseded", nextAttemptAt: undefined, version: release.version + 1 },
      expectedVersion: release.version,
    },
    journal(deps, release, effect, `supersede#${release.digest}`),
    // It may have been waiting: the slot must not drain it later.
    ...unqueue(slot, release.digest),
  ]);
  return [effect];
}

async function findOperation(deps: GantryDeps, serviceArn: string, operationId: string) {
  const operations = await deps.appRunner.listOperations(serviceArn);
  return operations.find((candidate) => candidate.id === operationId);
}

async function queue(deps: GantryDeps, release: Release, slot: ServiceSlot): Promise<Effect[]> {
  const effects: Effect[] = [];
  const writes: LedgerWrite[] = [];
  if (slot.waitingDigest && slot.waitingDigest !== release.digest) {
    const older = await deps.ledger.getRelease(release.serviceArn, slot.waitingDigest);
    if (older && older.state === "waiting") {
      const effect: Effect = {
        type: "supersede",
        service: older.serviceName,
        serviceArn: older.serviceArn,
        digest: older.digest,
        reasons: [`superseded by newer approved digest ${release.digest}`],
        message: `${older.digest} will not deploy: a newer approved digest replaces it`,
      };
      writes.push(
        {
          kind: "update-release",
          release: { ...older, state: "superseded", version: older.version + 1 },
          expectedVersion: older.version,
        },
        journal(deps, older, effect, `supersede#${older.digest}`),
      );
      effects.push(effect);
    }
  }
  const effect: Effect = {
    type: "wait",
    service: release.serviceName,
    serviceArn: release.serviceArn,
    digest: release.digest,
    operationId: slot.activeOperationId,
    reasons: [`operation ${slot.activeOperationId} is in progress`],
    message: "approved; deploys when the running operation ends",
  };
  writes.push(
    {
      kind: "update-release",
      release: { ...release, state: "waiting", version: release.version + 1 },
      expectedVersion: release.version,
    },
    {
      kind: "put-slot",
      slot: { ...slot, waitingDigest: release.digest, version: slot.version + 1 },
      expectedVersion: slot.version || undefined,
    },
    journal(deps, release, effect, `wait#${release.digest}`),
  );
  await deps.ledger.commit(writes);
  effects.push(effect);
  return effects;
}

async function start(deps: GantryDeps, release: Release, slot: ServiceSlot): Promise<Effect[]> {
  // The opt-in is read again right before every deploy (queued, retried, approved): a team that
  // untagged its service while a digest waited has taken it back. IAM enforces the same tag.
  const service = await deps.appRunner.describeService(release.serviceArn);
  if (!isManaged(service.tags)) return refuseUnmanaged(deps, release, slot);
  // Claim the slot first so two handlers cannot both call UpdateService for the same service.
  const claim = `${CLAIM_PREFIX}${release.digest}`;
  await deps.ledger.commit([
    {
      kind: "put-slot",
      slot: {
        ...slot,
        claimedAt: deps.clock.now().toISOString(),
        activeOperationId: claim,
        activeDigest: release.digest,
        waitingDigest: slot.waitingDigest === release.digest ? undefined : slot.waitingDigest,
        version: slot.version + 1,
      },
      expectedVersion: slot.version || undefined,
    },
  ]);
  const attempt = (release.attempts ?? 0) + 1;
  const target = imageIdentifierByDigest(release, release.digest);

  let operationId: string;
  try {
    ({ operationId } = await deps.appRunner.deployImage(release.serviceArn, target));
  } catch (error) {
    const running = isOperationInProgress(error)
      ? (await deps.appRunner.listOperations(release.serviceArn)).find((operation) =>
          RUNNING_OPERATION.has(operation.status),
        )
      : undefined;
    if (running && (await deps.appRunner.describeService(release.serviceArn)).imageIdentifier === target) {
      // The running operation is this very deploy: an earlier UpdateService was accepted but its
      // answer was lost. Adopt it; deploying again when it ends would roll the digest out twice.
      return recordDeploy(deps, release, running.id, attempt, [
        "adopted: App Runner accepted an earlier UpdateService whose answer was lost",
      ]);
    }
    // Give the claim back, or hand the slot to the operation App Runner runs that Gantry did not start.
    const after = await releaseClaim(deps, release.serviceArn, claim, running?.id);
    if (running) return after ? queue(deps, release, after) : [];
    if (!deps.isTransient(error)) throw error;
    return retryLater(
      deps,
      { ...release, attempts: attempt, apiErrors: (release.apiErrors ?? 0) + 1 },
      error,
      after?.waitingDigest,
    );
  }

  return recordDeploy(deps, release, operationId, attempt, deployReasons(release));
}

async function refuseUnmanaged(deps: GantryDeps, release: Release, slot: ServiceSlot): Promise<Effect[]> {
  const reason = `${release.serviceName} is no longer tagged ${TAG_MANAGED}=true: Gantry does not deploy to it`;
  const effect: Effect = {
    type: "notify",
    level: "warning",
    service: release.serviceName,
    serviceArn: release.serviceArn,
    digest: release.digest,
    reasons: [reason],
    message: `${release.digest} was not deployed: the service left Gantry's management`,
  };
  await deps.ledger.commit([
    {
      kind: "update-release",
      release: {
        ...release,
        state: "failed",
        nextAttemptAt: undefined,
        failure: { cause: "unmanaged", summary: reason, evidence: [] },
        version: release.version + 1,
      },
      expectedVersion: release.version,
    },
    journal(deps, release, effect, `unmanaged#${release.digest}`),
    ...unqueue(slot, release.digest),
  ]);
  return [effect];
}

/**
 * Ends this handler's claim, keeping whatever concurrent handlers queued meanwhile (they wrote the
 * slot while the claim was held, so its version moved on). Returns the slot as written, or undefined
 * when the claim was no longer ours (the reconciler recovered it as stale).
 */
async function releaseClaim(
  deps: GantryDeps,
  serviceArn: string,
  claim: string,
  foreignOperationId: string | undefined,
): Promise<ServiceSlot | undefined> {
  return withConflictRetry(async () => {
    const current = await deps.ledger.getSlot(serviceArn);
    if (!current || current.activeOperationId !== claim) return undefined;
    const { claimedAt: _claimedAt, activeDigest: _digest, activeOperationId: _claim, ...rest } = current;
    const next: ServiceSlot = {
      ...rest,
      ...(foreignOperationId ? { activeOperationId: foreignOperationId } : {}),
      version: current.version + 1,
    };
    await deps.ledger.commit([{ kind: "put-slot", slot: next, expectedVersion: current.version }]);
    return next;
  });
}

function deployReasons(release: Release): string[] {
  if (release.override) return [`approved by ${release.override.actor}: ${release.override.reason}`];
  return release.decision?.violations.map((violation) => `audit: ${violation}`) ?? [];
}

/**
 * App Runner accepted the deploy: record its operation. This must not fail on a lost race, because
 * the outer conflict retry would call UpdateService a second time; it re-reads and merges instead
 * (a concurrent handler may have queued a digest on the slot while the claim was held).
 */
async function recordDeploy(
  deps: GantryDeps,
  release: Release,
  operationId: string,
  attempt: number,
  reasons: string[],
): Promise<Effect[]> {
  const effect: Effect = {
    type: "deploy",
    service: release.serviceName,
    serviceArn: release.serviceArn,
    digest: release.digest,
    operationId,
    reasons,
    message: `UpdateService to ${imageIdentifierByDigest(release, release.digest)}`,
  };
  return withConflictRetry(async () => {
    const current = (await deps.ledger.getRelease(release.serviceArn, release.digest)) ?? release;
    if (current.state === "deploying" && current.operationId === operationId) return []; // recorded already
    if (TERMINAL_STATES.has(current.state)) return []; // settled meanwhile (a recovered stale claim): never reopen
    // The slot holds our claim, unless a stale-claim recovery took it: App Runner runs our operation either way.
    const slot = (await deps.ledger.getSlot(release.serviceArn)) ?? emptySlot(release.serviceArn);
    const { claimedAt: _claimedAt, ...unclaimed } = slot;
    await deps.ledger.commit([
      {
        kind: "update-release",
        release: {
          ...current,
          state: "deploying",
          operationId,
          attempts: attempt,
          nextAttemptAt: undefined,
          deployStartedAt: deps.clock.now().toISOString(),
          version: current.version + 1,
        },
        expectedVersion: current.version,
      },
      {
        kind: "put-slot",
        slot: {
          ...unclaimed,
          activeOperationId: operationId,
          activeDigest: release.digest,
          waitingDigest: slot.waitingDigest === release.digest ? undefined : slot.waitingDigest,
          version: slot.version + 1,
        },
        expectedVersion: slot.version || undefined,
      },
      journal(deps, release, effect, `deploy#${release.digest}#${operationId}`),
    ]);
    return [effect];
  });
}

/** UpdateService itself failed transiently (throttling, 5xx): record it and try again later, durably. */
async function retryLater(
  deps: GantryDeps,
  release: Release,
  error: unknown,
  waitingDigest: string | undefined,
): Promise<Effect[]> {
  const current = (await deps.ledger.getRelease(release.serviceArn, release.digest)) ?? release;
  const reason = `UpdateService failed: ${(error as Error)?.name ?? "Error"}: ${(error as Error)?.message ?? String(error)}`;
  const outcome = planRetry(
    deps,
    { ...current, attempts: release.attempts, apiErrors: release.apiErrors, version: current.version + 1 },
    [reason],
    waitingDigest,
    "api",
  );
  await deps.ledger.commit([
    { kind: "update-release", release: outcome.release, expectedVersion: current.version },
    ...outcome.effects.map((effect) =>
      journal(deps, release, effect, `${effect.type}#${release.digest}#${release.attempts}`),
    ),
  ]);
  if (outcome.retry) await deps.scheduler.scheduleRetry(outcome.retry.job, outcome.retry.at);
  if (outcome.release.state === "superseded" && waitingDigest) {
    return [...outcome.effects, ...(await deployOrQueue(deps, release.serviceArn, waitingDigest))];
  }
  return outcome.effects;
}

function isOperationInProgress(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  const message = String((error as { message?: string })?.message ?? "");
  return (
    name === "InvalidStateException" || (name === "InvalidRequestException" && /in progress/i.test(message))
  );
}

/**
 * An operation ended (from an App Runner event or the reconciler): settle the release it belonged
 * to, free the slot, and start the digest that was waiting.
 */
export async function settleOperation(
  deps: GantryDeps,
  serviceArn: string,
  operation: { id: string; status: string; endedAt?: Date },
): Promise<Effect[]> {
  const settled = await withConflictRetry(async () => {
    const slot = await deps.ledger.getSlot(serviceArn);
    if (!slot || slot.activeOperationId !== operation.id) return undefined;
    const writes: LedgerWrite[] = [];
    let outcome: Outcome | undefined;
    const release = slot.activeDigest
      ? await deps.ledger.getRelease(serviceArn, slot.activeDigest)
      : undefined;
    if (release && !TERMINAL_STATES.has(release.state)) {
      outcome = await deployOutcome(deps, release, operation, slot.waitingDigest);
      writes.push({ kind: "update-release", release: outcome.release, expectedVersion: release.version });
      for (const effect of outcome.effects)
        writes.push(journal(deps, release, effect, `${effect.type}#${operation.id}`));
    }
    const freed: ServiceSlot = {
      serviceArn,
      version: slot.version + 1,
      ...(slot.waitingDigest ? { waitingDigest: slot.waitingDigest } : {}),
    };
    writes.push({ kind: "put-slot", slot: freed, expectedVersion: slot.version });
    if (outcome?.release.state === "deployed") await rememberGoodSpec(deps, outcome.release);
    await deps.ledger.commit(writes);
    // No outcome when the slot held an operation Gantry did not start: the slot is still freed.
    return { outcome };
  });
  if (!settled) return [];
  const { outcome } = settled;
  // After the commit: a durable retry must not be scheduled for an outcome that lost a race.
  if (outcome?.retry) await deps.scheduler.scheduleRetry(outcome.retry.job, outcome.retry.at);
  const effects = [...(outcome?.effects ?? [])];
  const slot = await deps.ledger.getSlot(serviceArn);
  if (slot?.waitingDigest && !slot.activeOperationId) {
    effects.push(...(await deployOrQueue(deps, serviceArn, slot.waitingDigest)));
  }
  return effects;
}

/** The spec a live release runs with is what a recreate would rebuild from (FACTS §0.2). */
async function rememberGoodSpec(deps: GantryDeps, release: Release): Promise<void> {
  const spec = await deps.appRunner.captureSpec(release.serviceArn);
  await withConflictRetry(async () => {
    const record = await deps.ledger.getServiceRecord(release.serviceName);
    await deps.ledger.putServiceRecord(
      {
        ...(record ?? { serviceName: release.serviceName, version: 0 }),
        serviceArn: release.serviceArn,
        lastGoodSpec: spec,
        version: (record?.version ?? 0) + 1,
      },
      record?.version,
    );
  });
}

/** A durable retry fell due: deploy again, unless the release moved on meanwhile. */
export async function onRetryDue(deps: GantryDeps, job: RetryJob): Promise<Effect[]> {
  const release = await deps.ledger.getRelease(job.serviceArn, job.digest);
  if (release?.state !== "retrying" || (release.attempts ?? 1) >= job.attempt) return [];
  return deployOrQueue(deps, job.serviceArn, job.digest);
}

/**
 * Reconciler step: a handler that claimed the slot and died before recording its operation. If
 * App Runner started an operation since the claim, adopt it (the deploy happened); otherwise free
 * the slot and deploy the claimed digest again.
 */
export async function recoverStaleClaim(deps: GantryDeps, serviceArn: string): Promise<Effect[]> {
  const slot = await deps.ledger.getSlot(serviceArn);
  if (!slot?.activeOperationId?.startsWith(CLAIM_PREFIX) || !slot.claimedAt || !slot.activeDigest) return [];
  const claimedAt = new Date(slot.claimedAt).getTime();
  if (deps.clock.now().getTime() - claimedAt < STALE_CLAIM_MS) return [];
  const digest = slot.activeDigest;
  const started = (await deps.appRunner.listOperations(serviceArn)).find(
    (operation) => operation.type === "UPDATE_SERVICE" && (operation.startedAt?.getTime() ?? 0) >= claimedAt,
  );
  const release = await deps.ledger.getRelease(serviceArn, digest);
  if (started && release) {
    const effect: Effect = {
      type: "deploy",
      service: release.serviceName,
      serviceArn,
      digest,
      operationId: started.id,
      reasons: ["recovered: the deploying handler stopped before recording its operation"],
      message: "UpdateService found by the reconciler",
    };
    await deps.ledger.commit([
      {
        kind: "update-release",
        release: {
          ...release,
          state: "deploying",
          operationId: started.id,
          deployStartedAt: slot.claimedAt,
          version: release.version + 1,
        },
        expectedVersion: release.version,
      },
      {
        kind: "put-slot",
        slot: { ...slot, activeOperationId: started.id, version: slot.version + 1 },
        expectedVersion: slot.version,
      },
      journal(deps, release, effect, `deploy#${digest}#${started.id}`),
    ]);
    return [effect];
  }
  const { claimedAt: _claimedAt, activeDigest: _digest, activeOperationId: _claim, ...rest } = slot;
  await deps.ledger.commit([
    { kind: "put-slot", slot: { ...rest, version: slot.version + 1 }, expectedVersion: slot.version },
  ]);
  return deployOrQueue(deps, serviceArn, digest);
}
