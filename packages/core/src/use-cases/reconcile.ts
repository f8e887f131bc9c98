import type { Effect } from "../effects.ts";
import type { GantryDeps } from "../ports.ts";
import { onRetryDue, recoverStaleClaim } from "./deploy-slot.ts";
import { expireScanTimeouts } from "./gated-deploy.ts";
import { settleActiveOperation } from "./operation-events.ts";
import { completeRecovery, handlePaused, recoverCreateFailed, reportStuckOperation } from "./recovery.ts";

/** A scheduled retry that has not run this long after its time was lost: run it from here. */
const LOST_RETRY_GRACE_MS = 10 * 60_000;

/**
 * The scheduled safety net: App Runner, ECR and Inspector events are best effort (FACTS §0.5).
 * For every managed service: settle operations whose events never came, recover CREATE_FAILED and
 * PAUSED services, report stuck operations, run retries whose schedule was lost; then decide
 * candidates whose scan event was lost (asking ECR directly) and block those past their timeout.
 * Idempotent with the event handlers.
 */
export async function reconcile(deps: GantryDeps): Promise<Effect[]> {
  const services = await deps.appRunner.listManagedServices();
  const effects: Effect[] = [];
  const now = deps.clock.now().getTime();
  for (const service of services) {
    effects.push(...(await recoverStaleClaim(deps, service.serviceArn)));
    effects.push(...(await settleActiveOperation(deps, service.serviceArn)));
    effects.push(...(await reportStuckOperation(deps, service)));
    if (service.status === "CREATE_FAILED") effects.push(...(await recoverCreateFailed(deps, service)));
    if (service.status === "PAUSED") effects.push(...(await handlePaused(deps, service)));
    if (service.status === "RUNNING") effects.push(...(await completeRecovery(deps, service)));
    for (const release of await deps.ledger.releasesByService(service.serviceArn)) {
      if (release.state !== "retrying" || !release.nextAttemptAt) continue;
      if (now - new Date(release.nextAttemptAt).getTime() < LOST_RETRY_GRACE_MS) continue;
      const attempt = (release.attempts ?? 1) + 1;
      effects.push(
        ...(await onRetryDue(deps, {
          kind: "redeploy",
          serviceArn: service.serviceArn,
          digest: release.digest,
          attempt,
        })),
      );
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
