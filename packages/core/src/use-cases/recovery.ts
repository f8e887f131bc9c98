import type { Effect } from "../effects.ts";
import { resolvePolicy } from "../managed-services.ts";
import {
  type GantryDeps,
  LedgerConflictError,
  type ManagedService,
  RecreateRefusedError,
  recreateInFlight,
  type ServiceRecord,
  type ServiceSpecSnapshot,
} from "../ports.ts";
import { withConflictRetry } from "./conflict-retry.ts";
import type { Isolation } from "./isolation.ts";

/** Rebuild once, then recreate; three tries in all, never a loop. */
export const MAX_RECOVERY_ATTEMPTS = 3;
/** An operation running longer than this is reported (once) as stuck. */
export const STUCK_OPERATION_MS = 45 * 60_000;

const RUNNING_OPERATION = new Set(["PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"]);

type Recovery = NonNullable<ServiceRecord["recovery"]>;

/** Changes a service's record under its version (conflicts are retried on a fresh read). */
export async function updateServiceRecord(
  deps: GantryDeps,
  service: { serviceName: string; serviceArn: string },
  change: (record: ServiceRecord) => ServiceRecord,
): Promise<ServiceRecord> {
  return withConflictRetry(async () => {
    const current = await deps.ledger.getServiceRecord(service.serviceName);
    const base: ServiceRecord = current ?? { ...service, version: 0 };
    const next = { ...change(base), version: base.version + 1 };
    await deps.ledger.putServiceRecord(next, current?.version);
    return next;
  });
}

function ref(service: { serviceName: string; serviceArn: string }) {
  return { service: service.serviceName, serviceArn: service.serviceArn };
}

async function operationRunning(
  deps: GantryDeps,
  serviceArn: string,
  operationId: string | undefined,
): Promise<boolean> {
  if (!operationId) return false;
  const operation = (await deps.appRunner.listOperations(serviceArn)).find(
    (candidate) => candidate.id === operationId,
  );
  return operation !== undefined && RUNNING_OPERATION.has(operation.status);
}

/**
 * A managed service in CREATE_FAILED: rebuild it with UpdateService (AWS's path since 2023, see the
 * `Service.Status` doc: https://docs.aws.amazon.com/apprunner/latest/api/API_Service.html); if App
 * Runner refuses or the rebuild fails too, delete it and create it again from the last good spec,
 * but only once everything CreateService needs has been checked. Bounded attempts; the record makes
 * duplicate and late events harmless.
 */
export async function recoverCreateFailed(deps: GantryDeps, service: ManagedService): Promise<Effect[]> {
  if (service.status !== "CREATE_FAILED") return [];
  const record = await deps.ledger.getServiceRecord(service.serviceName);
  const recovery = record?.recovery;
  // A recreate already decided for this service (its delete not started or not finished): go on with it.
  if (record && recreateInFlight(record) && recovery?.oldServiceArn === service.serviceArn)
    return advanceRecreate(deps, record);
  const serviceArn = recovery?.newServiceArn ?? service.serviceArn;
  if (recovery && (await operationRunning(deps, serviceArn, recovery.operationId))) return [];
  if (recovery?.phase === "gave-up") return [];
  const attempts = recovery?.phase === "recovered" ? 0 : (recovery?.attempts ?? 0);
  const startedAt =
    recovery?.phase === "recovered"
      ? deps.clock.now().toISOString()
      : (recovery?.startedAt ?? deps.clock.now().toISOString());
  if (attempts >= MAX_RECOVERY_ATTEMPTS) {
    return giveUp(
      deps,
      service,
      [`${attempts} rebuild/recreate attempts ended in CREATE_FAILED`],
      "service is still CREATE_FAILED: it needs a person (read its service log)",
    );
  }
  const spec =
    record?.lastGoodSpec ?? recovery?.spec ?? (await deps.appRunner.captureSpec(service.serviceArn));
  if (attempts === 0) {
    try {
      const { operationId } = await deps.appRunner.rebuildService(service.serviceArn, spec);
      await updateServiceRecord(deps, service, (current) => ({
        ...current,
        serviceArn: service.serviceArn,
        recovery: { phase: "rebuilding", attempts: 1, operationId, spec, startedAt },
      }));
      return [
        {
          type: "rebuild",
          ...ref(service),
          operationId,
          level: "warning",
          reasons: ["service is CREATE_FAILED"],
          message: "rebuilding with UpdateService",
        },
      ];
    } catch (error) {
      if (deps.isTransient(error)) throw error;
      // Refused (e.g. "ConfigurationSource cannot be changed…"): recreate instead.
      return recreate(deps, service, spec, 1, startedAt, [`rebuild refused: ${(error as Error).message}`]);
    }
  }
  return recreate(deps, service, spec, attempts, startedAt, ["rebuild did not recover the service"]);
}

/** Marks the recovery given up and says why: the service is left as it is, for a person. */
async function giveUp(
  deps: GantryDeps,
  service: { serviceName: string; serviceArn: string },
  reasons: string[],
  message: string,
): Promise<Effect[]> {
  const now = deps.clock.now().toISOString();
  const record = await updateServiceRecord(deps, service, (current) => ({
    ...current,
    recovery: { attempts: 0, startedAt: now, ...current.recovery, phase: "gave-up" },
  }));
  return [
    {
      type: "giveup",
      ...ref(service),
      level: "failure",
      attempts: record.recovery?.attempts ?? 0,
      reasons,
      message,
    },
  ];
}

/**
 * Why `spec` must not replace the service (empty: it may). Everything CreateService needs is checked
 * before anything is deleted (the adapter validates the input against the API model, the roles and
 * the environment values); what a new service would lose is refused unless the policy allows it.
 */
async function recreateRefusal(
  deps: GantryDeps,
  service: ManagedService,
  spec: ServiceSpecSnapshot,
): Promise<string[]> {
  const check = await deps.appRunner.checkRecreate(service.serviceArn, spec);
  const resolution = resolvePolicy(deps.config, service);
  const allowed = resolution.ok ? resolution.policy.recreate : undefined;
  const refusedLosses = check.losses
    .filter((loss) =>
      loss.kind === "custom-domains" ? !allowed?.allowWithCustomDomains : !allowed?.allowWithPrivateIngress,
    )
    .map(
      (loss) =>
        `a new service would not have ${loss.detail} (policy "${resolution.policyName}" does not set recreate.${
          loss.kind === "custom-domains" ? "allowWithCustomDomains" : "allowWithPrivateIngress"
        })`,
    );
  return [...check.problems, ...refusedLosses];
}

async function recreate(
  deps: GantryDeps,
  service: ManagedService,
  spec: ServiceSpecSnapshot,
  attempts: number,
  startedAt: string,
  reasons: string[],
): Promise<Effect[]> {
  const refused = await recreateRefusal(deps, service, spec);
  if (refused.length > 0) {
    return giveUp(
      deps,
      service,
      [...reasons, ...refused],
      "recreate refused: the failed service was not deleted; it needs a person",
    );
  }
  // The decision is recorded before DeleteService: should this handler stop after the delete (or
  // the DELETED event be lost), the reconciler finds the record and creates the service again.
  await updateServiceRecord(deps, service, (current) => ({
    ...current,
    recovery: {
      phase: "deleting",
      attempts: attempts + 1,
      oldServiceArn: service.serviceArn,
      spec,
      startedAt,
    },
  }));
  const { operationId } = await deps.appRunner.deleteService(service.serviceArn);
  await recordDeleteOperation(deps, service, operationId);
  return [
    {
      type: "recreate",
      phase: "deleting",
      ...ref(service),
      operationId,
      level: "warning",
      reasons,
      message: "deleting the failed service to create it again from its recorded spec",
    },
  ];
}

async function recordDeleteOperation(
  deps: GantryDeps,
  service: { serviceName: string; serviceArn: string },
  operationId: string,
): Promise<void> {
  await transition(
    deps,
    service.serviceName,
    (recovery) => recovery.phase === "deleting" && recovery.oldServiceArn === service.serviceArn,
    (current) => ({ ...current, recovery: { ...(current.recovery as Recovery), operationId } }),
  );
}

/**
 * Applies `change` only while the recovery still satisfies `expected`, under the record's version:
 * of two handlers racing (the DELETED event and the reconciler), exactly one moves a recreate on.
 * Returns the stored record, or undefined when the recovery had moved on.
 */
async function transition(
  deps: GantryDeps,
  serviceName: string,
  expected: (recovery: Recovery) => boolean,
  change: (record: ServiceRecord) => ServiceRecord,
): Promise<ServiceRecord | undefined> {
  return withConflictRetry(async () => {
    const current = await deps.ledger.getServiceRecord(serviceName);
    if (!current?.recovery || !expected(current.recovery)) return undefined;
    const next = { ...change(current), version: current.version + 1 };
    await deps.ledger.putServiceRecord(next, current.version);
    return next;
  });
}

/** A claimed CreateService with no new ARN recorded after this long: its handler stopped. */
export const CREATE_CLAIM_STALE_MS = 5 * 60_000;

/**
 * The DELETED status event of a service: if Gantry deleted it to recreate it, create it again.
 * The event is best effort; the reconciler does the same from the ledger (`resumeRecreates`).
 */
export async function continueRecreate(
  deps: GantryDeps,
  serviceName: string,
  deletedArn: string,
): Promise<Effect[]> {
  const record = await deps.ledger.getServiceRecord(serviceName);
  if (!record || !recreateInFlight(record) || record.recovery?.oldServiceArn !== deletedArn) return [];
  return advanceRecreate(deps, record);
}

/**
 * Reconciler step: every recreate in flight, found in the ledger because App Runner no longer lists
 * a deleted service. Each is moved on by itself (`Isolation`): one that fails is reported, the others still run.
 */
export async function resumeRecreates(deps: GantryDeps, isolated: Isolation): Promise<void> {
  for (const indexed of await deps.ledger.recreatesInFlight()) {
    const service = {
      serviceName: indexed.serviceName,
      serviceArn: indexed.recovery?.oldServiceArn ?? indexed.serviceArn,
    };
    await isolated.run(service, async () => {
      // The index may lag the record: act on a consistent read.
      const record = await deps.ledger.getServiceRecord(indexed.serviceName);
      return record && recreateInFlight(record) ? advanceRecreate(deps, record) : [];
    });
  }
}

/**
 * One step of a recreate: wait for the delete, then create. What App Runner reports decides
 * (events are hints): the old service DELETED (or no longer known) → CreateService; still
 * CREATE_FAILED with no delete running → the recorded delete never started: delete (after checking
 * again); DELETE_FAILED → a person; running again → someone else fixed it, nothing to recreate.
 */
async function advanceRecreate(deps: GantryDeps, record: ServiceRecord): Promise<Effect[]> {
  const recovery = record.recovery as Recovery;
  const oldArn = recovery.oldServiceArn ?? record.serviceArn;
  const service = { serviceName: record.serviceName, serviceArn: oldArn };
  if (recovery.phase === "creating") return resumeClaimedCreate(deps, record, oldArn);
  const status = await deps.appRunner.serviceStatus(oldArn);
  if (status === "DELETED") {
    const claimed = await transition(
      deps,
      record.serviceName,
      (current) => current.phase === "deleting" && current.oldServiceArn === oldArn,
      (current) => ({
        ...current,
        recovery: {
          ...(current.recovery as Recovery),
          phase: "creating",
          operationId: undefined,
          createClaimedAt: deps.clock.now().toISOString(),
        },
      }),
    );
    return claimed ? createClaimed(deps, claimed, oldArn) : [];
  }
  if (status === "DELETE_FAILED") {
    return giveUp(
      deps,
      service,
      ["DeleteService failed: the service is DELETE_FAILED"],
      "the failed service could not be deleted, so it was not recreated: retry DeleteService, then create it from the recorded spec",
    );
  }
  if (status === "RUNNING" || status === "PAUSED") {
    const dropped = await transition(
      deps,
      record.serviceName,
      (current) => current.phase === "deleting" && current.oldServiceArn === oldArn,
      (current) => ({ ...current, recovery: { ...(current.recovery as Recovery), phase: "recovered" } }),
    );
    return dropped
      ? [
          {
            type: "outcome",
            outcome: "recovered",
            ...ref(service),
            reasons: [`the service is ${status} again before Gantry deleted it`],
            message: "recovered without a recreate: the planned delete was dropped",
          },
        ]
      : [];
  }
  if (status !== "CREATE_FAILED" || (await operationRunning(deps, oldArn, recovery.operationId))) return [];
  // The decision was recorded but DeleteService never started (the handler stopped, or was refused).
  const managed = await deps.appRunner.describeService(oldArn);
  const refused = recovery.spec ? await recreateRefusal(deps, managed, recovery.spec) : ["no recorded spec"];
  if (refused.length > 0) {
    return giveUp(
      deps,
      service,
      refused,
      "recreate refused: the failed service was not deleted; it needs a person",
    );
  }
  const { operationId } = await deps.appRunner.deleteService(oldArn);
  await recordDeleteOperation(deps, service, operationId);
  return [];
}

/** A claimed create whose new ARN was never recorded: adopt the service it made, or create again. */
async function resumeClaimedCreate(
  deps: GantryDeps,
  record: ServiceRecord,
  oldArn: string,
): Promise<Effect[]> {
  const claimedAt = record.recovery?.createClaimedAt;
  const age = claimedAt
    ? deps.clock.now().getTime() - new Date(claimedAt).getTime()
    : Number.POSITIVE_INFINITY;
  if (age < CREATE_CLAIM_STALE_MS) return []; // its handler may still be at it
  const known = new Set([oldArn, ...(record.previousArns ?? [])]);
  const made = (await deps.appRunner.listManagedServices()).find(
    (service) => service.serviceName === record.serviceName && !known.has(service.serviceArn),
  );
  if (made) return recordCreated(deps, record, oldArn, { serviceArn: made.serviceArn, serviceUrl: "" });
  const reclaimed = await transition(
    deps,
    record.serviceName,
    (current) =>
      current.phase === "creating" && !current.newServiceArn && current.createClaimedAt === claimedAt,
    (current) => ({
      ...current,
      recovery: { ...(current.recovery as Recovery), createClaimedAt: deps.clock.now().toISOString() },
    }),
  );
  return reclaimed ? createClaimed(deps, reclaimed, oldArn) : [];
}

/** This handler holds the claim: CreateService, its values read from the deleted service. */
async function createClaimed(deps: GantryDeps, record: ServiceRecord, oldArn: string): Promise<Effect[]> {
  const recovery = record.recovery as Recovery;
  const service = { serviceName: record.serviceName, serviceArn: oldArn };
  if (!recovery.spec) {
    return giveUp(
      deps,
      service,
      ["no recorded spec"],
      "the failed service was deleted but cannot be created again",
    );
  }
  let created: { serviceArn: string; serviceUrl: string; operationId?: string };
  try {
    created = await deps.appRunner.createService(recovery.spec, { environmentFrom: oldArn });
  } catch (error) {
    if (deps.isTransient(error)) {
      // Give the claim back so that the retried event (or the next reconciler run) creates it.
      await transition(
        deps,
        record.serviceName,
        (current) =>
          current.phase === "creating" &&
          !current.newServiceArn &&
          current.createClaimedAt === recovery.createClaimedAt,
        (current) => ({ ...current, recovery: { ...(current.recovery as Recovery), phase: "deleting" } }),
      );
      throw error;
    }
    const problems =
      error instanceof RecreateRefusedError || (error as Error).name === "RecreateRefusedError"
        ? (error as RecreateRefusedError).problems
        : [`CreateService: ${(error as Error).name}: ${(error as Error).message}`];
    return giveUp(
      deps,
      service,
      problems,
      "the failed service was deleted but could not be created again: create it by hand from the recorded spec (gantry history shows it)",
    );
  }
  return recordCreated(deps, record, oldArn, created);
}

/**
 * The new service exists: carry the old ARN's unlifted quarantines over to it (first, and
 * idempotently, so that a handler stopping half-way loses none), then record the new ARN with the
 * old one in `previousArns`.
 */
async function recordCreated(
  deps: GantryDeps,
  record: ServiceRecord,
  oldArn: string,
  created: { serviceArn: string; serviceUrl: string; operationId?: string },
): Promise<Effect[]> {
  const effect: Effect = {
    type: "recreate",
    phase: "creating",
    service: record.serviceName,
    serviceArn: created.serviceArn,
    oldServiceArn: oldArn,
    newServiceArn: created.serviceArn,
    newServiceUrl: created.serviceUrl,
    ...(created.operationId ? { operationId: created.operationId } : {}),
    level: "warning",
    reasons: [
      `old ARN ${oldArn}`,
      `new ARN ${created.serviceArn}`,
      `new URL ${created.serviceUrl || "(see the console)"}`,
    ],
    message: "recreated from the recorded spec: re-point custom domains and origins to the new URL",
  };
  await carryOver(deps, record.serviceName, oldArn, created.serviceArn, effect);
  const recorded = await transition(
    deps,
    record.serviceName,
    (current) => current.phase === "creating" && !current.newServiceArn,
    (current) => ({
      ...current,
      serviceArn: created.serviceArn,
      previousArns: [oldArn, ...(current.previousArns ?? []).filter((arn) => arn !== oldArn)],
      recovery: {
        ...(current.recovery as Recovery),
        operationId: created.operationId,
        newServiceArn: created.serviceArn,
        newServiceUrl: created.serviceUrl,
      },
    }),
  );
  return recorded ? [effect] : [];
}

/**
 * Releases and the journal are keyed by service ARN. A quarantine is a fact about the service, not
 * its ARN: each unlifted one is written again under the new ARN, so every check (push, approve,
 * rollback, lift) refuses the digest for the new service as it did for the old. The journal of
 * both ARNs records the link; `serviceHistory` reads across `previousArns`.
 */
async function carryOver(
  deps: GantryDeps,
  serviceName: string,
  oldArn: string,
  newArn: string,
  effect: Effect,
): Promise<void> {
  const at = deps.clock.now().toISOString();
  const entry = (serviceArn: string, digest?: string, message?: string) => ({
    kind: "journal" as const,
    entry: {
      serviceArn,
      serviceName,
      at,
      type: digest ? ("quarantine" as const) : effect.type,
      ...(digest ? { digest } : {}),
      reasons: digest ? [`quarantined on ${oldArn}, carried over to ${newArn}`] : (effect.reasons ?? []),
      message: message ?? (effect.message as string),
      key: digest ? `carry#${digest}#${newArn}` : `recreate#${oldArn}#${newArn}`,
    },
  });
  for (const release of await deps.ledger.releasesByService(oldArn)) {
    if (!release.quarantine || release.quarantine.liftedBy) continue;
    if (await deps.ledger.getRelease(newArn, release.digest)) continue;
    try {
      await deps.ledger.commit([
        { kind: "put-release", release: { ...release, serviceArn: newArn, version: 1 } },
        entry(newArn, release.digest, "quarantine carried over from the service this one replaces"),
      ]);
    } catch (error) {
      if (!(error instanceof LedgerConflictError) && (error as Error).name !== "LedgerConflictError")
        throw error;
    }
  }
  await deps.ledger.commit([entry(oldArn), entry(newArn)]);
}

/** A rebuild or recreate finished with the service RUNNING. */
export async function completeRecovery(deps: GantryDeps, service: ManagedService): Promise<Effect[]> {
  if (service.status !== "RUNNING") return [];
  const record = await deps.ledger.getServiceRecord(service.serviceName);
  const recovery = record?.recovery;
  if (!recovery || (recovery.phase !== "rebuilding" && recovery.phase !== "creating")) return [];
  // A recreate is complete once its new ARN is recorded and that service runs, not before.
  if (recovery.phase === "creating" && recovery.newServiceArn !== service.serviceArn) return [];
  await updateServiceRecord(deps, service, (current) => ({
    ...current,
    recovery: { ...(current.recovery as Recovery), phase: "recovered" },
  }));
  return [
    {
      type: "outcome",
      outcome: "recovered",
      ...ref(service),
      ...(recovery.operationId ? { operationId: recovery.operationId } : {}),
      reasons: recovery.newServiceArn ? [`now ${recovery.newServiceArn}`] : [],
      message: `recovered from CREATE_FAILED by ${recovery.phase === "rebuilding" ? "rebuild" : "recreate"}`,
    },
  ];
}

/** An operation running far longer than App Runner's usual minutes is reported once, with its age. */
export async function reportStuckOperation(deps: GantryDeps, service: ManagedService): Promise<Effect[]> {
  return withConflictRetry(async () => {
    const slot = await deps.ledger.getSlot(service.serviceArn);
    if (!slot?.activeOperationId || slot.stuckReported === slot.activeOperationId) return [];
    const operation = (await deps.appRunner.listOperations(service.serviceArn)).find(
      (candidate) => candidate.id === slot.activeOperationId,
    );
    if (!operation?.startedAt || !RUNNING_OPERATION.has(operation.status)) return [];
    const ageMs = deps.clock.now().getTime() - operation.startedAt.getTime();
    if (ageMs < STUCK_OPERATION_MS) return [];
    await deps.ledger.commit([
      {
        kind: "put-slot",
        slot: { ...slot, stuckReported: operation.id, version: slot.version + 1 },
        expectedVersion: slot.version,
      },
    ]);
    return [
      {
        type: "stuck",
        ...ref(service),
        operationId: operation.id,
        ...(slot.activeDigest ? { digest: slot.activeDigest } : {}),
        ageMinutes: Math.round(ageMs / 60_000),
        level: "warning",
        reasons: [`${operation.type} ${operation.status} for ${Math.round(ageMs / 60_000)} min`],
        message: "operation is taking unusually long; Gantry keeps following it",
      },
    ];
  });
}
