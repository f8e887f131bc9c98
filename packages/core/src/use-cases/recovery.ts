import type { Effect } from "../effects.ts";
import type { GantryDeps, ManagedService, ServiceRecord, ServiceSpecSnapshot } from "../ports.ts";
import { withConflictRetry } from "./conflict-retry.ts";

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
 * A managed service in CREATE_FAILED: rebuild it with UpdateService (AWS's path since 2023, FACTS
 * §0.2); if App Runner refuses or the rebuild fails too, delete it and create it again from the last
 * good spec. Bounded attempts; the record makes duplicate and late events harmless.
 */
export async function recoverCreateFailed(deps: GantryDeps, service: ManagedService): Promise<Effect[]> {
  if (service.status !== "CREATE_FAILED") return [];
  const record = await deps.ledger.getServiceRecord(service.serviceName);
  const recovery = record?.recovery;
  const serviceArn = recovery?.newServiceArn ?? service.serviceArn;
  if (recovery && (await operationRunning(deps, serviceArn, recovery.operationId))) return [];
  if (recovery?.phase === "gave-up") return [];
  const attempts = recovery?.phase === "recovered" ? 0 : (recovery?.attempts ?? 0);
  const startedAt =
    recovery?.phase === "recovered"
      ? deps.clock.now().toISOString()
      : (recovery?.startedAt ?? deps.clock.now().toISOString());
  if (attempts >= MAX_RECOVERY_ATTEMPTS) {
    await updateServiceRecord(deps, service, (current) => ({
      ...current,
      recovery: { ...(current.recovery as Recovery), phase: "gave-up" },
    }));
    return [
      {
        type: "giveup",
        ...ref(service),
        level: "failure",
        attempts,
        reasons: [`${attempts} rebuild/recreate attempts ended in CREATE_FAILED`],
        message: "service is still CREATE_FAILED: it needs a person (read its service log)",
      },
    ];
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

async function recreate(
  deps: GantryDeps,
  service: ManagedService,
  spec: ServiceSpecSnapshot,
  attempts: number,
  startedAt: string,
  reasons: string[],
): Promise<Effect[]> {
  const { operationId } = await deps.appRunner.deleteService(service.serviceArn);
  await updateServiceRecord(deps, service, (current) => ({
    ...current,
    recovery: {
      phase: "deleting",
      attempts: attempts + 1,
      operationId,
      oldServiceArn: service.serviceArn,
      spec,
      startedAt,
    },
  }));
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

/** The failed service is gone: create it again under the same name, record the new ARN and URL. */
export async function continueRecreate(
  deps: GantryDeps,
  serviceName: string,
  deletedArn: string,
): Promise<Effect[]> {
  const record = await deps.ledger.getServiceRecord(serviceName);
  const recovery = record?.recovery;
  if (recovery?.phase !== "deleting" || recovery.oldServiceArn !== deletedArn || !recovery.spec) return [];
  const created = await deps.appRunner.createService(recovery.spec);
  await updateServiceRecord(deps, { serviceName, serviceArn: created.serviceArn }, (current) => ({
    ...current,
    serviceArn: created.serviceArn,
    recovery: {
      ...(current.recovery as Recovery),
      phase: "creating",
      operationId: created.operationId,
      newServiceArn: created.serviceArn,
      newServiceUrl: created.serviceUrl,
    },
  }));
  return [
    {
      type: "recreate",
      phase: "creating",
      service: serviceName,
      serviceArn: created.serviceArn,
      oldServiceArn: deletedArn,
      newServiceArn: created.serviceArn,
      newServiceUrl: created.serviceUrl,
      operationId: created.operationId,
      level: "warning",
      reasons: [`old ARN ${deletedArn}`, `new ARN ${created.serviceArn}`, `new URL ${created.serviceUrl}`],
      message: "recreated from the recorded spec: re-point custom domains and origins to the new URL",
    },
  ];
}

/** A rebuild or recreate finished with the service RUNNING. */
export async function completeRecovery(deps: GantryDeps, service: ManagedService): Promise<Effect[]> {
  if (service.status !== "RUNNING") return [];
  const record = await deps.ledger.getServiceRecord(service.serviceName);
  const recovery = record?.recovery;
  if (!recovery || (recovery.phase !== "rebuilding" && recovery.phase !== "creating")) return [];
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
