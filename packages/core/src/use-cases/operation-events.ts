import type { AppRunnerOperationStatusChanged, AppRunnerServiceStatusChanged } from "../domain-events.ts";
import type { Effect } from "../effects.ts";
import { isManaged } from "../managed-services.ts";
import type { GantryDeps } from "../ports.ts";
import { deployOrQueue, settleOperation } from "./deploy-slot.ts";
import { handlePaused } from "./pause.ts";
import { completeRecovery, continueRecreate, recoverCreateFailed } from "./recovery.ts";

const ENDED = new Set(["SUCCEEDED", "FAILED", "ROLLBACK_SUCCEEDED", "ROLLBACK_FAILED"]);

/**
 * App Runner events carry no operation id (FACTS §0.7): look the operation up with ListOperations
 * and settle the one the ledger is waiting for. Status changes drive recovery. Duplicates and
 * out-of-order events are harmless: every step re-reads App Runner and the ledger first.
 */
export async function onAppRunnerEvent(
  deps: GantryDeps,
  event: AppRunnerOperationStatusChanged | AppRunnerServiceStatusChanged,
): Promise<Effect[]> {
  const effects = await settleActiveOperation(deps, event.serviceArn);
  if (event.kind === "apprunner-service-status-changed") effects.push(...(await onStatus(deps, event)));
  return effects;
}

export async function settleActiveOperation(deps: GantryDeps, serviceArn: string): Promise<Effect[]> {
  const slot = await deps.ledger.getSlot(serviceArn);
  if (!slot) return [];
  // Free but with a digest waiting: the drain after the last settle failed part-way (e.g. a 5xx);
  // the retried event or the reconciler finishes it.
  if (!slot.activeOperationId)
    return slot.waitingDigest ? deployOrQueue(deps, serviceArn, slot.waitingDigest) : [];
  const operation = (await deps.appRunner.listOperations(serviceArn)).find(
    (candidate) => candidate.id === slot.activeOperationId,
  );
  if (!operation || !ENDED.has(operation.status)) return [];
  return settleOperation(deps, serviceArn, operation);
}

async function onStatus(deps: GantryDeps, event: AppRunnerServiceStatusChanged): Promise<Effect[]> {
  // A deleted service can no longer be described: the recovery record knows whether Gantry deleted it.
  if (event.currentStatus === "DELETED") return continueRecreate(deps, event.serviceName, event.serviceArn);
  const service = await deps.appRunner.describeService(event.serviceArn);
  if (!isManaged(service.tags)) return [];
  // The event may be stale: act on the status App Runner reports now.
  switch (service.status) {
    case "CREATE_FAILED":
      return recoverCreateFailed(deps, service);
    case "PAUSED":
      return handlePaused(deps, service);
    case "RUNNING":
      // Running again ends a pause, so the next pause is judged on its own caller.
      return [...(await handlePaused(deps, service)), ...(await completeRecovery(deps, service))];
    default:
      return [];
  }
}
