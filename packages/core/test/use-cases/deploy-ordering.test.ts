import { describe, expect, it } from "vitest";
import { onImagePushed, onImageScanned } from "../../src/index.ts";
import {
  type CoreHarness,
  coreHarness,
  digestOf,
  operationEnded,
  pushed,
  REGISTRY,
  scanned,
} from "../support/core-harness.ts";

const MINUTE = 60_000;

function setup(): CoreHarness & { serviceArn: string } {
  const harness = coreHarness();
  const { serviceArn } = harness.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
  return { ...harness, serviceArn };
}

describe("deploy ordering", () => {
  it("deploys a clean push by digest and records the outcome (harness smoke test)", async () => {
    const h = setup();
    const digest = digestOf("v1");
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
    const effects = await onImageScanned(h.deps, scanned({ repository: "web", digest, time: h.clock.now() }));
    expect(effects.map((effect) => effect.type)).toEqual(["allow", "deploy"]);
    expect(h.appRunner.deploysOf(h.serviceArn)).toEqual([`${REGISTRY}/web@${digest}`]);
    h.clock.advance(5 * MINUTE);
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    await operationEnded(h, h.serviceArn);
    expect((await h.ledger.getRelease(h.serviceArn, digest))?.state).toBe("deployed");
  });

  it("an older push whose scan finishes later never supersedes a newer waiting push", async () => {
    const h = setup();
    const [running, older, newer] = [digestOf("v1"), digestOf("v2"), digestOf("v3")];
    const t0 = h.clock.now();
    // v1 is deploying, so everything approved meanwhile waits for the slot.
    await onImagePushed(h.deps, pushed({ repository: "web", digest: running, tag: "prod", time: t0 }));
    await onImageScanned(h.deps, scanned({ repository: "web", digest: running, time: t0 }));
    const tOlder = h.clock.advance(MINUTE);
    await onImagePushed(h.deps, pushed({ repository: "web", digest: older, tag: "prod", time: tOlder }));
    const tNewer = h.clock.advance(MINUTE);
    await onImagePushed(h.deps, pushed({ repository: "web", digest: newer, tag: "prod", time: tNewer }));
    // The newer push's scan finishes first; the older one's scan comes last.
    await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest: newer, time: h.clock.advance(MINUTE) }),
    );
    const late = await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest: older, time: h.clock.advance(MINUTE) }),
    );

    expect((await h.ledger.getRelease(h.serviceArn, newer))?.state).toBe("waiting");
    expect((await h.ledger.getRelease(h.serviceArn, older))?.state).toBe("superseded");
    expect(late.find((effect) => effect.type === "supersede")?.digest).toBe(older);
    expect((await h.ledger.getSlot(h.serviceArn))?.waitingDigest).toBe(newer);

    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    await operationEnded(h, h.serviceArn);
    expect(h.appRunner.deploysOf(h.serviceArn).at(-1)).toBe(`${REGISTRY}/web@${newer}`);
    expect(h.appRunner.deploysOf(h.serviceArn)).not.toContain(`${REGISTRY}/web@${older}`);
  });

  it("pushes at the same second are ordered by the push event's time, then by arrival", async () => {
    const h = setup();
    const [running, first, second] = [digestOf("r"), digestOf("a"), digestOf("b")];
    const t0 = h.clock.now();
    await onImagePushed(h.deps, pushed({ repository: "web", digest: running, tag: "prod", time: t0 }));
    await onImageScanned(h.deps, scanned({ repository: "web", digest: running, time: t0 }));
    const same = new Date(t0.getTime() + MINUTE);
    await onImagePushed(h.deps, pushed({ repository: "web", digest: second, tag: "prod", time: same }));
    await onImagePushed(h.deps, pushed({ repository: "web", digest: first, tag: "prod", time: same }));
    await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest: second, time: h.clock.advance(MINUTE) }),
    );
    await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest: first, time: h.clock.advance(MINUTE) }),
    );
    // Same push time: the later scan wins (nothing says it is older).
    expect((await h.ledger.getRelease(h.serviceArn, first))?.state).toBe("waiting");
    expect((await h.ledger.getRelease(h.serviceArn, second))?.state).toBe("superseded");
  });

  it("a late scan of an older push never deploys over a newer push that is already live", async () => {
    const h = setup();
    const [older, newer] = [digestOf("old"), digestOf("new")];
    const tOlder = h.clock.now();
    await onImagePushed(h.deps, pushed({ repository: "web", digest: older, tag: "prod", time: tOlder }));
    const tNewer = h.clock.advance(MINUTE);
    await onImagePushed(h.deps, pushed({ repository: "web", digest: newer, tag: "prod", time: tNewer }));
    await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest: newer, time: h.clock.advance(MINUTE) }),
    );
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    await operationEnded(h, h.serviceArn);
    expect((await h.ledger.getRelease(h.serviceArn, newer))?.state).toBe("deployed");

    const late = await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest: older, time: h.clock.advance(10 * MINUTE) }),
    );
    expect(late.map((effect) => effect.type)).toEqual(["allow", "supersede"]);
    expect(h.appRunner.deploysOf(h.serviceArn)).toEqual([`${REGISTRY}/web@${newer}`]);
  });
});
