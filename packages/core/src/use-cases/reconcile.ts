import type { Effect } from "../effects.ts";
import type { GantryDeps, ManagedService } from "../ports.ts";
import { onRetryDue, recoverStaleClaim } from "./deploy-slot.ts";
import { expireScanTimeouts } from "./gated-deploy.ts";
import { Isolation } from "./isolation.ts";
import { settleActiveOperation } from "./operation-events.ts";
import { handlePaused } from "./pause.ts";
import { completeRecovery, recoverCreateFailed, reportStuckOperation, resumeRecreates } from "./recovery.ts";

/** A scheduled retry that has not run this long after its time was lost: run it from here. */
const LOST_RETRY_GRACE_MS = 10 * 60_000;

/**
 * What one reconciler run may spend. The runtime derives it from the function's timeout and the App
 * Runner rate it allows itself (`GANTRY_APPRUNNER_MAX_RPS`): at 1,000 services a run that tried
 * everything could outlast its Lambda, so it stops starting services when the budget is spent,
 * remembers where it stopped, and the next run continues from there.
 */
export interface ReconcileBudget {
  /** App Runner API calls this instance has made so far (a running count: a run uses the difference). */
  appRunnerCalls(): number;
  /** The most App Runner calls one run may make, discovery included. */
  maxAppRunnerCalls: number;
  /** Milliseconds left before the run must stop starting work; without it, time is not limited. */
  timeLeftMs?(): number;
}

/**
 * The most App Runner calls reconciling one service takes (ListOperations and the live spec to
 * settle an operation, a deploy of a waiting digest, a rebuild, a resume…): a run starts a service
 * only while that many calls still fit in its budget, so it never spends more than its budget.
 */
export const RECONCILE_CALLS_PER_SERVICE = 10;

/** Statuses App Runner reports in the listing that need the reconciler whatever the ledger says. */
const NEEDS_ATTENTION = new Set(["CREATE_FAILED", "PAUSED"]);

/**
 * The scheduled safety net: App Runner, ECR and Inspector events are best effort (FACTS §0.5).
 * For every managed service: settle operations whose events never came, recover CREATE_FAILED and
 * PAUSED services, report stuck operations, run retries whose schedule was lost; then decide
 * candidates whose scan event was lost (asking ECR directly) and block those past their timeout.
 * Idempotent with the event handlers. Each service is reconciled on its own: one that throws
 * (AccessDenied, a bad spec) is reported and skipped, and the rest of the fleet is still reconciled.
 *
 * At fleet scale (`budget`): services App Runner lists as CREATE_FAILED or PAUSED go first, then the
 * fleet in ARN order from the cursor the last run saved. A service with no open work in the ledger
 * costs no App Runner call (only ledger reads), so the budget is spent where there is work, and
 * consecutive runs cover every service: with B calls a run and W calls of open work, within ⌈W / B⌉
 * runs (plus one).
 */
export async function reconcile(deps: GantryDeps, budget?: ReconcileBudget): Promise<Effect[]> {
  const allowsAnother = spending(budget);
  const isolated = new Isolation(deps);
  // Recreates in flight: App Runner no longer lists their deleted services; the ledger has them.
  await resumeRecreates(deps, isolated);
  const services = await deps.appRunner.listManagedServices();
  const cursor = await deps.ledger.reconcileCursor();
  const { first, rotation } = reconcileOrder(services, cursor);
  const now = deps.clock.now().getTime();
  let reached: string | undefined;
  for (const service of [...first, ...rotation]) {
    if (!allowsAnother()) break;
    await isolated.run(service, () => reconcileService(deps, service, now));
    await isolated.run(service, () =>
      expireScanTimeouts(
        deps,
        (release) => deps.findings.describeScan({ repository: release.repository, digest: release.digest }),
        [service.serviceArn],
      ),
    );
    if (!first.includes(service)) reached = service.serviceArn;
  }
  if (reached && reached !== cursor) await deps.ledger.saveReconcileCursor(reached);
  return isolated.effects();
}

/** Services needing attention first; then the rest in ARN order, starting after the cursor. */
function reconcileOrder(
  services: ManagedService[],
  cursor: string | undefined,
): { first: ManagedService[]; rotation: ManagedService[] } {
  const sorted = [...services].sort((a, b) => a.serviceArn.localeCompare(b.serviceArn));
  const first = sorted.filter((service) => NEEDS_ATTENTION.has(service.status));
  const rest = sorted.filter((service) => !NEEDS_ATTENTION.has(service.status));
  const start = cursor === undefined ? 0 : rest.findIndex((service) => service.serviceArn > cursor);
  const from = start < 0 ? 0 : start;
  return { first, rotation: [...rest.slice(from), ...rest.slice(0, from)] };
}

/** Whether the run may start reconciling one more service. */
function spending(budget: ReconcileBudget | undefined): () => boolean {
  if (!budget) return () => true;
  const start = budget.appRunnerCalls();
  return () =>
    budget.appRunnerCalls() - start + RECONCILE_CALLS_PER_SERVICE <= budget.maxAppRunnerCalls &&
    (budget.timeLeftMs?.() ?? 1) > 0;
}

async function reconcileService(deps: GantryDeps, service: ManagedService, now: number): Promise<Effect[]> {
  const effects: Effect[] = [];
  // A claim, an operation or a waiting digest on the slot is what these three act on: a service
  // whose slot holds none (most of a fleet, most of the time) costs one read, not three.
  const slot = await deps.ledger.getSlot(service.serviceArn);
  if (slot?.activeOperationId || slot?.waitingDigest) {
    effects.push(...(await recoverStaleClaim(deps, service.serviceArn)));
    effects.push(...(await settleActiveOperation(deps, service.serviceArn)));
    effects.push(...(await reportStuckOperation(deps, service)));
  }
  if (service.status === "CREATE_FAILED") effects.push(...(await recoverCreateFailed(deps, service)));
  if (service.status === "PAUSED" || service.status === "RUNNING")
    effects.push(...(await handlePaused(deps, service)));
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
  return effects;
}
