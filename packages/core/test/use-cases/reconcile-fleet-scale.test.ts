import { describe, expect, it } from "vitest";
import {
  onImagePushed,
  onImageScanned,
  type ReconcileBudget,
  reconcile,
  TERMINAL_STATES,
} from "../../src/index.ts";
import {
  type CoreHarness,
  coreHarness,
  digestOf,
  pushed,
  REGISTRY,
  scanned,
} from "../support/core-harness.ts";

const MINUTE = 60_000;
const FLEET = 1_000;
/** What one run may spend here; production derives it from the Lambda timeout and the rate. */
const CALLS_PER_RUN = 200;
/** A run stops starting services before the budget, so the service in progress fits in it. */
const MOST_CALLS_ONE_SERVICE_MAKES = 10;

/** The budget as the runtime builds it, counting what the in-memory App Runner was asked. */
function budgetOf(h: CoreHarness, maxAppRunnerCalls = CALLS_PER_RUN): ReconcileBudget {
  return { appRunnerCalls: () => h.appRunner.calls.length, maxAppRunnerCalls };
}

function name(index: number): string {
  return `svc-${String(index).padStart(4, "0")}`;
}

/** 1,000 managed services, each deployed once: push, scan, UpdateService. */
async function deployedFleet(h: CoreHarness) {
  const services = [];
  for (let index = 0; index < FLEET; index++) {
    const service = h.appRunner.addService({ name: name(index), image: `${REGISTRY}/app-${index}:prod` });
    const digest = digestOf(`d${index}`);
    const repository = `app-${index}`;
    await onImagePushed(h.deps, pushed({ repository, digest, tag: "prod", time: h.clock.now() }));
    await onImageScanned(h.deps, scanned({ repository, digest, time: h.clock.now() }));
    services.push({ ...service, digest });
  }
  return services;
}

describe("reconciler at fleet scale (1,000 services, App Runner call budget)", () => {
  it("an idle fleet costs the discovery alone: no App Runner call where the ledger shows no open work", async () => {
    const h = coreHarness();
    for (let index = 0; index < FLEET; index++) {
      h.appRunner.addService({ name: name(index), image: `${REGISTRY}/app-${index}:prod` });
    }

    await reconcile(h.deps, budgetOf(h));

    expect(h.appRunner.calls.map((call) => call.method)).toEqual(["listManagedServices"]);
  });

  it("an idle service costs the reconciler few ledger reads: the slot is read once, not once per check", async () => {
    const h = coreHarness();
    for (let index = 0; index < FLEET; index++) {
      h.appRunner.addService({ name: name(index), image: `${REGISTRY}/app-${index}:prod` });
    }
    let reads = 0;
    h.ledger.beforeEach = async () => {
      reads++;
    };

    await reconcile(h.deps, budgetOf(h));

    // The slot, the releases (twice: lost retries, then scans), the service record (pause, recovery).
    expect(reads / FLEET).toBeLessThanOrEqual(5.01);
  });

  it("lost events on every service: each run stays within its budget, and consecutive runs settle them all", async () => {
    const h = coreHarness();
    const fleet = await deployedFleet(h);
    // Every deploy ends while App Runner's events are lost: only the reconciler can settle them.
    h.clock.advance(5 * MINUTE);
    for (const service of fleet) h.appRunner.finish(service.serviceArn, "SUCCEEDED");

    const perRun: number[] = [];
    let open = fleet.length;
    for (let run = 0; run < 20 && open > 0; run++) {
      const before = h.appRunner.calls.length;
      await reconcile(h.deps, budgetOf(h));
      perRun.push(h.appRunner.calls.length - before);
      open = 0;
      for (const service of fleet) {
        const release = await h.ledger.getRelease(service.serviceArn, service.digest);
        if (!release || !TERMINAL_STATES.has(release.state)) open++;
      }
      h.clock.advance(5 * MINUTE);
    }

    expect(open).toBe(0);
    for (const calls of perRun) expect(calls).toBeLessThanOrEqual(CALLS_PER_RUN);
    // Settling costs ListOperations + the live spec per service: 2,000 calls, about 200 a run.
    const settleCalls = 2 * FLEET;
    const runsNeeded = Math.ceil(settleCalls / (CALLS_PER_RUN - MOST_CALLS_ONE_SERVICE_MAKES - 1));
    expect(perRun.length).toBeLessThanOrEqual(runsNeeded + 1);
    for (const service of fleet) {
      expect((await h.ledger.getRelease(service.serviceArn, service.digest))?.state).toBe("deployed");
    }
  });

  it("a service App Runner reports CREATE_FAILED or PAUSED is reconciled first, even past a spent budget", async () => {
    const h = coreHarness({ policies: { default: { autoResume: false } } });
    const fleet = await deployedFleet(h);
    h.clock.advance(5 * MINUTE);
    for (const service of fleet) h.appRunner.finish(service.serviceArn, "SUCCEEDED");
    // The last service in ARN order is broken: a rotation alone would reach it in the tenth run.
    const broken = h.appRunner.addService({
      name: "zzz-broken",
      image: `${REGISTRY}/z:prod`,
      status: "CREATE_FAILED",
    });

    const before = h.appRunner.calls.length;
    const effects = await reconcile(h.deps, budgetOf(h));

    expect(h.appRunner.calls.length - before).toBeLessThanOrEqual(CALLS_PER_RUN);
    expect(effects.find((effect) => effect.type === "rebuild")).toMatchObject({
      serviceArn: broken.serviceArn,
    });
  });

  it("without a budget every service is reconciled in one run (the sandbox and small fleets)", async () => {
    const h = coreHarness();
    const fleet = (await deployedFleet(h)).slice(0, 50);
    h.clock.advance(5 * MINUTE);
    for (const service of await h.appRunner.listManagedServices()) {
      if (h.appRunner.runningOperation(service.serviceArn))
        h.appRunner.finish(service.serviceArn, "SUCCEEDED");
    }

    await reconcile(h.deps);

    for (const service of fleet) {
      expect((await h.ledger.getRelease(service.serviceArn, service.digest))?.state).toBe("deployed");
    }
  });
});
