import type { AppRunnerOperationStatusChanged, AppRunnerServiceStatusChanged } from "../domain-events.ts";
import type { Effect } from "../effects.ts";
import type { GantryDeps } from "../ports.ts";
import { settleOperation } from "./deploy-slot.ts";

const ENDED = new Set(["SUCCEEDED", "FAILED", "ROLLBACK_SUCCEEDED", "ROLLBACK_FAILED"]);

/**
 * App Runner events carry no operation id (FACTS §0.7): look the operation up with ListOperations
 * and settle the one the ledger is waiting for. Duplicates and out-of-order events are harmless:
 * settling is conditional on the slot still naming that operation.
 */
export async function onAppRunnerEvent(
  deps: GantryDeps,
  event: AppRunnerOperationStatusChanged | AppRunnerServiceStatusChanged,
): Promise<Effect[]> {
  const slot = await deps.ledger.getSlot(event.serviceArn);
  if (!slot?.activeOperationId) return [];
  const operation = (await deps.appRunner.listOperations(event.serviceArn)).find(
    (candidate) => candidate.id === slot.activeOperationId,
  );
  if (!operation || !ENDED.has(operation.status)) return [];
  return settleOperation(deps, event.serviceArn, operation);
}
