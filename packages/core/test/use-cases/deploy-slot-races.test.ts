import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Effect,
  LedgerConflictError,
  onImagePushed,
  onImageScanned,
  seededRandom,
} from "../../src/index.ts";
import {
  coreHarness,
  digestOf,
  interleave,
  operationEnded,
  pushed,
  REGISTRY,
  scanned,
} from "../support/core-harness.ts";

const MINUTE = 60_000;

/**
 * Many approvals of one service at once, as concurrent Lambda invocations would run them: every
 * ledger and App Runner call yields a random number of turns, some commits lose a race they did
 * not cause (injected conflicts), some events arrive twice, and a failed invocation is delivered
 * again (Lambda async retries). Then operations finish one by one until nothing is left to do.
 */
async function approveConcurrently(input: {
  pushes: number;
  order: number[];
  duplicates: number[];
  seed: number;
  conflictRate: number;
}) {
  const h = coreHarness({}, input.seed);
  const { serviceArn } = h.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
  const digests = Array.from({ length: input.pushes }, (_, index) => digestOf(`v${input.seed}-${index}`));
  const t0 = h.clock.now().getTime();
  for (const [index, digest] of digests.entries()) {
    await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest, tag: "prod", time: new Date(t0 + index * MINUTE) }),
    );
  }
  h.clock.advance(input.pushes * MINUTE);

  interleave(h, input.seed);
  const chaos = seededRandom(input.seed ^ 0x5eed);
  h.ledger.beforeCommit = () => {
    if (chaos.next() < input.conflictRate) throw new LedgerConflictError("injected: another writer won");
  };

  const deliveries: (() => Promise<Effect[]>)[] = [...input.order, ...input.duplicates].map(
    (index) => () =>
      onImageScanned(
        h.deps,
        scanned({ repository: "web", digest: digests[index] as string, time: h.clock.now() }),
      ),
  );
  await deliverUntilDone(deliveries);

  // Drain: finish whatever runs, tell Gantry (the event), until the service is idle.
  for (let round = 0; round < 4 * input.pushes + 4; round++) {
    if (h.appRunner.runningOperation(serviceArn)) {
      h.clock.advance(3 * MINUTE);
      h.appRunner.finish(serviceArn, "SUCCEEDED");
    }
    await deliverUntilDone([() => operationEnded(h, serviceArn), () => operationEnded(h, serviceArn)]);
    if (!h.appRunner.runningOperation(serviceArn)) {
      const slot = await h.ledger.getSlot(serviceArn);
      if (!slot?.activeOperationId && !slot?.waitingDigest) break;
    }
  }
  h.ledger.beforeCommit = undefined;
  return { h, serviceArn, digests };
}

/** Runs deliveries concurrently; a failed one is delivered again, as Lambda's async retries do. */
async function deliverUntilDone(deliveries: (() => Promise<unknown>)[]): Promise<void> {
  let pending = deliveries;
  for (let round = 0; pending.length > 0; round++) {
    if (round > 20) throw new Error("deliveries keep failing");
    const results = await Promise.allSettled(pending.map((deliver) => deliver()));
    pending = pending.filter((_, index) => results[index]?.status === "rejected");
  }
}

describe("deploy slot under concurrent approvals", () => {
  it("deploys each digest at most once, ends on the newest push, and leaves no release or slot behind", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }).chain((pushes) =>
          fc.record({
            pushes: fc.constant(pushes),
            order: fc.shuffledSubarray(
              Array.from({ length: pushes }, (_, index) => index),
              { minLength: pushes, maxLength: pushes },
            ),
            duplicates: fc.array(fc.integer({ min: 0, max: pushes - 1 }), { maxLength: 3 }),
            seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
            conflictRate: fc.constantFrom(0, 0.15, 0.3),
          }),
        ),
        async (input) => {
          const { h, serviceArn, digests } = await approveConcurrently(input);
          const deployed = h.appRunner.deploysOf(serviceArn);
          const newest = `${REGISTRY}/web@${digests.at(-1)}`;

          expect(new Set(deployed).size).toBe(deployed.length); // never the same digest twice
          expect((await h.appRunner.describeService(serviceArn)).imageIdentifier).toBe(newest);
          const slot = await h.ledger.getSlot(serviceArn);
          expect(slot?.activeOperationId).toBeUndefined();
          expect(slot?.waitingDigest).toBeUndefined();
          for (const release of await h.ledger.releasesByService(serviceArn)) {
            const image = `${REGISTRY}/web@${release.digest}`;
            // Every release ended: live, or replaced by a newer push. None lost on the way.
            expect(["deployed", "superseded"]).toContain(release.state);
            // The ledger says deployed exactly when App Runner ran its deploy.
            expect(release.state === "deployed").toBe(deployed.includes(image));
            if (release.state === "deployed") {
              const operation = h.appRunner.operations
                .get(serviceArn)
                ?.find((o) => o.id === release.operationId);
              expect(operation?.status).toBe("SUCCEEDED");
            }
          }
        },
      ),
      { numRuns: 60, seed: 20261204 },
    );
  });

  it("a digest queued while the claimer is inside UpdateService is kept, and the claimer records its own operation", async () => {
    const h = coreHarness();
    const { serviceArn } = h.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
    const [first, second] = [digestOf("first"), digestOf("second")];
    const t0 = h.clock.now();
    await onImagePushed(h.deps, pushed({ repository: "web", digest: first, tag: "prod", time: t0 }));
    await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest: second, tag: "prod", time: new Date(t0.getTime() + MINUTE) }),
    );
    // The newer digest is approved by another invocation exactly while the first calls UpdateService.
    let concurrent: Promise<Effect[]> | undefined;
    h.appRunner.beforeEach = async (method) => {
      if (method !== "deployImage" || concurrent) return;
      concurrent = onImageScanned(
        h.deps,
        scanned({ repository: "web", digest: second, time: h.clock.now() }),
      );
      await concurrent;
    };
    await onImageScanned(h.deps, scanned({ repository: "web", digest: first, time: h.clock.now() }));
    h.appRunner.beforeEach = undefined;

    const operationId = h.appRunner.runningOperation(serviceArn)?.id;
    expect(h.appRunner.deploysOf(serviceArn)).toEqual([`${REGISTRY}/web@${first}`]);
    expect(await h.ledger.getSlot(serviceArn)).toMatchObject({
      activeOperationId: operationId,
      activeDigest: first,
      waitingDigest: second,
    });
    expect(await h.ledger.getRelease(serviceArn, first)).toMatchObject({ state: "deploying", operationId });
    expect((await h.ledger.getRelease(serviceArn, second))?.state).toBe("waiting");

    // The operation's event is matched, and the waiting digest follows.
    h.appRunner.finish(serviceArn, "SUCCEEDED");
    await operationEnded(h, serviceArn);
    expect((await h.ledger.getRelease(serviceArn, first))?.state).toBe("deployed");
    expect(h.appRunner.deploysOf(serviceArn)).toEqual([
      `${REGISTRY}/web@${first}`,
      `${REGISTRY}/web@${second}`,
    ]);
  });
});
