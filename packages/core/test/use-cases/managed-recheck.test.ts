import { describe, expect, it } from "vitest";
import { onImagePushed, onImageScanned, onRetryDue } from "../../src/index.ts";
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

function unmanage(h: CoreHarness, serviceArn: string) {
  const service = h.appRunner.services.get(serviceArn);
  if (service) service.tags = { team: "payments" };
}

describe("the managed tag is checked again before every deploy", () => {
  it("a digest queued before the tag was removed is not deployed when the slot frees", async () => {
    const h = coreHarness();
    const { serviceArn } = h.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
    const [first, second] = [digestOf("v1"), digestOf("v2")];
    await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest: first, tag: "prod", time: h.clock.now() }),
    );
    await onImageScanned(h.deps, scanned({ repository: "web", digest: first, time: h.clock.now() }));
    const t = h.clock.advance(MINUTE);
    await onImagePushed(h.deps, pushed({ repository: "web", digest: second, tag: "prod", time: t }));
    await onImageScanned(h.deps, scanned({ repository: "web", digest: second, time: t }));
    expect((await h.ledger.getRelease(serviceArn, second))?.state).toBe("waiting");

    unmanage(h, serviceArn);
    h.appRunner.finish(serviceArn, "SUCCEEDED");
    const effects = await operationEnded(h, serviceArn);

    expect(h.appRunner.deploysOf(serviceArn)).toEqual([`${REGISTRY}/web@${first}`]);
    expect(effects.find((effect) => effect.digest === second)).toMatchObject({
      type: "notify",
      level: "warning",
      reasons: [expect.stringContaining("gantry:managed=true")],
    });
    expect((await h.ledger.getRelease(serviceArn, second))?.state).toBe("failed");
    expect((await h.ledger.getSlot(serviceArn))?.waitingDigest).toBeUndefined();
  });

  it("a retry that falls due after the tag was removed does not deploy", async () => {
    const h = coreHarness();
    const { serviceArn } = h.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
    const digest = digestOf("v1");
    await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
    h.appRunner.failNext(
      "deployImage",
      Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }),
    );
    await onImageScanned(h.deps, scanned({ repository: "web", digest, time: h.clock.now() }));
    const [scheduled] = h.scheduler.jobs;
    expect(scheduled?.job).toMatchObject({ digest, attempt: 2 });

    unmanage(h, serviceArn);
    h.clock.set(scheduled?.at.toISOString() ?? "");
    await onRetryDue(h.deps, scheduled?.job ?? { kind: "redeploy", serviceArn, digest, attempt: 2 });
    expect(h.appRunner.deploysOf(serviceArn)).toEqual([]);
    expect((await h.ledger.getRelease(serviceArn, digest))?.state).toBe("failed");
  });
});
