import type { Effect } from "../effects.ts";
import type { GantryDeps } from "../ports.ts";
import { recoverStaleClaim, settleOperation } from "./deploy-slot.ts";
import { expireScanTimeouts } from "./gated-deploy.ts";

const ENDED = new Set(["SUCCEEDED", "FAILED", "ROLLBACK_SUCCEEDED", "ROLLBACK_FAILED"]);

/**
 * The scheduled safety net: App Runner, ECR and Inspector events are best effort (FACTS §0.5).
 * Settle operations whose events never came, decide candidates whose scan event was lost (asking
 * ECR directly), and block the ones past their scan timeout. Idempotent with the event handlers.
 */
export async function reconcile(deps: GantryDeps): Promise<Effect[]> {
  const services = await deps.appRunner.listManagedServices();
  const effects: Effect[] = [];
  for (const service of services) {
    effects.push(...(await recoverStaleClaim(deps, service.serviceArn)));
    const slot = await deps.ledger.getSlot(service.serviceArn);
    if (!slot?.activeOperationId) continue;
    const operation = (await deps.appRunner.listOperations(service.serviceArn)).find(
      (candidate) => candidate.id === slot.activeOperationId,
    );
    if (operation && ENDED.has(operation.status)) {
      effects.push(...(await settleOperation(deps, service.serviceArn, operation)));
    }
  }
  effects.push(
    ...(await expireScanTimeouts(
      deps,
      (release) => deps.findings.describeScan({ repository: release.repository, digest: release.digest }),
      services.map((service) => service.serviceArn),
    )),
  );
  return effects;
}
