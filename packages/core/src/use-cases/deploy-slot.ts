import type { Effect } from "../effects.ts";
import { imageIdentifierByDigest } from "../image-ref.ts";
import type { GantryDeps, JournalEntry, LedgerWrite } from "../ports.ts";
import { type Release, type ServiceSlot, TERMINAL_STATES } from "../release.ts";
import { withConflictRetry } from "./conflict-retry.ts";

const RUNNING_OPERATION = new Set(["PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"]);
const CLAIM_PREFIX = "claim:";
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
 * waiting digest supersedes an older one, so no deploy is lost and none runs twice.
 */
export async function deployOrQueue(deps: GantryDeps, serviceArn: string, digest: string): Promise<Effect[]> {
  return withConflictRetry(async () => {
    const release = await deps.ledger.getRelease(serviceArn, digest);
    if (
      !release ||
      (release.state !== "waiting" && release.state !== "awaiting-scan" && release.state !== "blocked")
    )
      return [];
    const slot = (await deps.ledger.getSlot(serviceArn)) ?? emptySlot(serviceArn);
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
  // Claim the slot first so two handlers cannot both call UpdateService for the same service.
  const claimOperationId = `${CLAIM_PREFIX}${release.digest}`;
  const claimed: ServiceSlot = {
    ...slot,
    claimedAt: deps.clock.now().toISOString(),
    activeOperationId: claimOperationId,
    activeDigest: release.digest,
    waitingDigest: slot.waitingDigest === release.digest ? undefined : slot.waitingDigest,
    version: slot.version + 1,
  };
  await deps.ledger.commit([{ kind: "put-slot", slot: claimed, expectedVersion: slot.version || undefined }]);

  let operationId: string;
  try {
    ({ operationId } = await deps.appRunner.deployImage(
      release.serviceArn,
      imageIdentifierByDigest(release, release.digest),
    ));
  } catch (error) {
    // Give the claim back so the retry (or the next event) can try again.
    await deps.ledger.commit([
      {
        kind: "put-slot",
        slot: { ...slot, version: claimed.version + 1, waitingDigest: slot.waitingDigest },
        expectedVersion: claimed.version,
      },
    ]);
    if (!isOperationInProgress(error)) throw error;
    // App Runner runs an operation Gantry did not start: wait for that one.
    const running = (await deps.appRunner.listOperations(release.serviceArn)).find((operation) =>
      RUNNING_OPERATION.has(operation.status),
    );
    if (!running) throw error;
    const busy: ServiceSlot = { ...slot, activeOperationId: running.id, version: claimed.version + 2 };
    await deps.ledger.commit([{ kind: "put-slot", slot: busy, expectedVersion: claimed.version + 1 }]);
    return queue(deps, release, busy);
  }

  const now = deps.clock.now().toISOString();
  const effect: Effect = {
    type: "deploy",
    service: release.serviceName,
    serviceArn: release.serviceArn,
    digest: release.digest,
    operationId,
    reasons: release.override
      ? [`approved by ${release.override.actor}: ${release.override.reason}`]
      : release.decision?.violations.length
        ? release.decision.violations.map((violation) => `audit: ${violation}`)
        : [],
    message: `UpdateService to ${imageIdentifierByDigest(release, release.digest)}`,
  };
  await deps.ledger.commit([
    {
      kind: "update-release",
      release: {
        ...release,
        state: "deploying",
        operationId,
        deployStartedAt: now,
        version: release.version + 1,
      },
      expectedVersion: release.version,
    },
    {
      kind: "put-slot",
      slot: { ...claimed, activeOperationId: operationId, version: claimed.version + 1 },
      expectedVersion: claimed.version,
    },
    journal(deps, release, effect, `deploy#${release.digest}#${operationId}`),
  ]);
  return [effect];
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
  operation: { id: string; status: string },
): Promise<Effect[]> {
  const effects = await withConflictRetry(async () => {
    const slot = await deps.ledger.getSlot(serviceArn);
    if (!slot || slot.activeOperationId !== operation.id) return [];
    const writes: LedgerWrite[] = [];
    const out: Effect[] = [];
    if (slot.activeDigest) {
      const release = await deps.ledger.getRelease(serviceArn, slot.activeDigest);
      if (release && !TERMINAL_STATES.has(release.state)) {
        const state =
          operation.status === "SUCCEEDED"
            ? "deployed"
            : operation.status === "ROLLBACK_SUCCEEDED"
              ? "rolled-back"
              : "failed";
        const effect: Effect = {
          type: "outcome",
          service: release.serviceName,
          serviceArn,
          digest: release.digest,
          operationId: operation.id,
          outcome: state,
          level: state === "deployed" ? "info" : "failure",
          reasons: state === "deployed" ? [] : [`operation ${operation.id} ended ${operation.status}`],
          message: state === "deployed" ? "release is live" : `deployment ${state}`,
        };
        writes.push(
          {
            kind: "update-release",
            release: {
              ...release,
              state,
              deployEndedAt: deps.clock.now().toISOString(),
              version: release.version + 1,
            },
            expectedVersion: release.version,
          },
          journal(deps, release, effect, `outcome#${operation.id}`),
        );
        out.push(effect);
      }
    }
    const freed: ServiceSlot = {
      serviceArn,
      version: slot.version + 1,
      ...(slot.waitingDigest ? { waitingDigest: slot.waitingDigest } : {}),
    };
    writes.push({ kind: "put-slot", slot: freed, expectedVersion: slot.version });
    await deps.ledger.commit(writes);
    return out;
  });
  const slot = await deps.ledger.getSlot(serviceArn);
  if (slot?.waitingDigest && !slot.activeOperationId)
    effects.push(...(await deployOrQueue(deps, serviceArn, slot.waitingDigest)));
  return effects;
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
        release: { ...release, state: "deploying", operationId: started.id, deployStartedAt: slot.claimedAt, version: release.version + 1 },
        expectedVersion: release.version,
      },
      { kind: "put-slot", slot: { ...slot, activeOperationId: started.id, version: slot.version + 1 }, expectedVersion: slot.version },
      journal(deps, release, effect, `deploy#${digest}#${started.id}`),
    ]);
    return [effect];
  }
  const { claimedAt: _claimedAt, activeDigest: _digest, activeOperationId: _claim, ...rest } = slot;
  await deps.ledger.commit([{ kind: "put-slot", slot: { ...rest, version: slot.version + 1 }, expectedVersion: slot.version }]);
  return deployOrQueue(deps, serviceArn, digest);
}
