import { describe, expect, it } from "vitest";
import { onImagePushed, onImageScanned } from "../../src/index.ts";
import {
  type CoreHarness,
  coreHarness,
  digestOf,
  NO_FINDINGS,
  operationEnded,
  pushed,
  REGISTRY,
  scanned,
} from "../support/core-harness.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function setup(config = {}): CoreHarness & { serviceArn: string } {
  const harness = coreHarness(config);
  const { serviceArn } = harness.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
  return { ...harness, serviceArn };
}

/** v1 is deploying, so the digest under test is approved and waits for the slot. */
async function withDeployRunning(h: CoreHarness & { serviceArn: string }) {
  const running = digestOf("running");
  await onImagePushed(
    h.deps,
    pushed({ repository: "web", digest: running, tag: "prod", time: h.clock.now() }),
  );
  await onImageScanned(h.deps, scanned({ repository: "web", digest: running, time: h.clock.now() }));
  expect(h.appRunner.runningOperation(h.serviceArn)).toBeDefined();
}

describe("fresh scan wins", () => {
  it("a rescan with new findings replaces the stored scan and blocks a release that was waiting to deploy", async () => {
    const h = setup();
    await withDeployRunning(h);
    const digest = digestOf("v2");
    await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest, tag: "prod", time: h.clock.advance(MINUTE) }),
    );
    await onImageScanned(h.deps, scanned({ repository: "web", digest, time: h.clock.advance(MINUTE) }));
    expect((await h.ledger.getRelease(h.serviceArn, digest))?.state).toBe("waiting");

    const rescan = await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest, time: h.clock.advance(MINUTE), counts: { CRITICAL: 1 } }),
    );
    expect(rescan.map((effect) => effect.type)).toEqual(["block"]);
    expect((await h.ledger.getScan("web", digest))?.severityCounts.CRITICAL).toBe(1);
    expect((await h.ledger.getRelease(h.serviceArn, digest))?.state).toBe("blocked");
    expect((await h.ledger.getSlot(h.serviceArn))?.waitingDigest).toBeUndefined();

    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    await operationEnded(h, h.serviceArn);
    expect(h.appRunner.deploysOf(h.serviceArn)).not.toContain(`${REGISTRY}/web@${digest}`);
  });

  it("an older scan delivered late never replaces a newer one", async () => {
    const h = setup();
    const digest = digestOf("v2");
    const early = h.clock.now();
    const late = h.clock.advance(5 * MINUTE);
    await onImageScanned(h.deps, scanned({ repository: "web", digest, time: late, counts: { CRITICAL: 2 } }));
    await onImageScanned(h.deps, scanned({ repository: "web", digest, time: early }));
    expect((await h.ledger.getScan("web", digest))?.severityCounts.CRITICAL).toBe(2);
    const effects = await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest, tag: "prod", time: early }),
    );
    expect(effects.map((effect) => effect.type)).toEqual(["candidate", "block"]);
  });

  it("a blocked release whose rescan comes back clean is judged again and deploys", async () => {
    const h = setup();
    const digest = digestOf("v2");
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
    await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest, time: h.clock.advance(MINUTE), counts: { CRITICAL: 1 } }),
    );
    expect((await h.ledger.getRelease(h.serviceArn, digest))?.state).toBe("blocked");
    const effects = await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest, time: h.clock.advance(DAY) }),
    );
    expect(effects.map((effect) => effect.type)).toEqual(["allow", "deploy"]);
  });

  it("a duplicate of the scan a decision was made on changes nothing", async () => {
    const h = setup();
    const digest = digestOf("v2");
    const time = h.clock.now();
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time }));
    await onImageScanned(h.deps, scanned({ repository: "web", digest, time, counts: { CRITICAL: 1 } }));
    const again = await onImageScanned(
      h.deps,
      scanned({ repository: "web", digest, time, counts: { CRITICAL: 1 } }),
    );
    expect(again).toEqual([]);
  });
});

describe("scan age (maxScanAgeDays)", () => {
  async function promoteOldScan(h: CoreHarness & { serviceArn: string }) {
    const digest = digestOf("rc-7");
    // Scanned when it was pushed as an rc, 40 days ago; nobody ran the rc tag.
    const scannedAt = new Date(h.clock.now().getTime() - 40 * DAY);
    await onImageScanned(h.deps, scanned({ repository: "web", digest, time: scannedAt, tags: ["rc-7"] }));
    return digest;
  }

  it("re-checks ECR before deploying a scan older than the policy allows, and decides on the fresh result", async () => {
    const h = setup();
    const digest = await promoteOldScan(h);
    h.findings.scans.set(`web@${digest}`, {
      scanner: "enhanced",
      scanStatus: "ACTIVE",
      succeeded: true,
      scannedAt: h.clock.now().toISOString(),
      severityCounts: { ...NO_FINDINGS, CRITICAL: 1 },
    });
    const effects = await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }),
    );
    expect(h.findings.calls).toContainEqual({ method: "describeScan", repository: "web", digest });
    expect(effects.find((effect) => effect.type === "block")?.reasons).toEqual([
      "1 CRITICAL finding (allowed: 0)",
    ]);
    expect((await h.ledger.getScan("web", digest))?.severityCounts.CRITICAL).toBe(1);
  });

  it("blocks (fail closed) when ECR has nothing newer than the stale scan", async () => {
    const h = setup({ policies: { default: { maxScanAgeDays: 14 } } });
    const digest = await promoteOldScan(h);
    const effects = await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }),
    );
    expect(effects.find((effect) => effect.type === "block")?.reasons).toEqual([
      expect.stringMatching(/scan is 40 days old \(policy allows 14\).*rescan/),
    ]);
    expect(h.appRunner.deploysOf(h.serviceArn)).toEqual([]);
  });

  it("a recent scan is used as it is, without asking ECR", async () => {
    const h = setup();
    const digest = digestOf("fresh");
    await onImageScanned(h.deps, scanned({ repository: "web", digest, time: h.clock.now() }));
    h.clock.advance(29 * DAY);
    const effects = await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }),
    );
    expect(effects.map((effect) => effect.type)).toEqual(["candidate", "allow", "deploy"]);
    expect(h.findings.calls).toEqual([]);
  });
});

describe("Inspector counts that do not add up to TOTAL", () => {
  const enhanced = (h: CoreHarness, digest: string, counts: object, reportedTotal: number) =>
    scanned({ repository: "web", digest, time: h.clock.now(), scanner: "enhanced", counts, reportedTotal });

  it("fetches the real counts before deciding, and blocks on what they show", async () => {
    const h = setup();
    const digest = digestOf("v2");
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
    h.findings.scans.set(`web@${digest}`, {
      scanner: "enhanced",
      scanStatus: "ACTIVE",
      succeeded: true,
      scannedAt: h.clock.now().toISOString(),
      severityCounts: { ...NO_FINDINGS, CRITICAL: 3, HIGH: 2 },
    });
    // AWS's own sample event shape: some severities are missing from the counts, TOTAL has them.
    const effects = await onImageScanned(h.deps, enhanced(h, digest, { HIGH: 2 }, 5));
    expect(effects.find((effect) => effect.type === "block")?.reasons).toEqual([
      "3 CRITICAL findings (allowed: 0)",
    ]);
  });

  it("allows when the real counts show the missing findings are of severities the policy accepts", async () => {
    const h = setup();
    const digest = digestOf("v2");
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
    h.findings.scans.set(`web@${digest}`, {
      scanner: "enhanced",
      scanStatus: "ACTIVE",
      succeeded: true,
      scannedAt: h.clock.now().toISOString(),
      severityCounts: { ...NO_FINDINGS, HIGH: 2, LOW: 3 },
    });
    const effects = await onImageScanned(h.deps, enhanced(h, digest, { HIGH: 2 }, 5));
    expect(effects.map((effect) => effect.type)).toEqual(["allow", "deploy"]);
  });

  it("fails closed when the real counts cannot be read", async () => {
    const h = setup();
    const digest = digestOf("v2");
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
    const effects = await onImageScanned(h.deps, enhanced(h, digest, { HIGH: 2 }, 5));
    expect(effects.find((effect) => effect.type === "block")?.reasons).toEqual([
      expect.stringMatching(/3 findings have no severity in the scan result \(TOTAL 5\).*CRITICAL/),
    ]);
  });

  it("does not ask when the counts add up", async () => {
    const h = setup();
    const digest = digestOf("v2");
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
    const effects = await onImageScanned(h.deps, enhanced(h, digest, { HIGH: 2, LOW: 3 }, 5));
    expect(effects.map((effect) => effect.type)).toEqual(["allow", "deploy"]);
    expect(h.findings.calls).toEqual([]);
  });
});
