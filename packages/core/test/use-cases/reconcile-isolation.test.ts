import { describe, expect, it } from "vitest";
import { onImagePushed, onImageScanned, reconcile } from "../../src/index.ts";
import { coreHarness, digestOf, pushed, REGISTRY, scanned } from "../support/core-harness.ts";
import { awsError } from "../support/in-memory-app-runner.ts";

const MINUTE = 60_000;

describe("reconciler isolation", () => {
  it("a service that throws is reported and skipped; the others are still reconciled", async () => {
    const h = coreHarness();
    const broken = h.appRunner.addService({ name: "broken", image: `${REGISTRY}/api:prod` });
    const healthy = h.appRunner.addService({ name: "healthy", image: `${REGISTRY}/web:prod` });
    for (const [repository, label] of [
      ["api", "a1"],
      ["web", "w1"],
    ] as const) {
      const digest = digestOf(label);
      await onImagePushed(h.deps, pushed({ repository, digest, tag: "prod", time: h.clock.now() }));
      await onImageScanned(h.deps, scanned({ repository, digest, time: h.clock.now() }));
    }
    // Both deploys end while their events are lost; one service's operations cannot be read.
    h.clock.advance(5 * MINUTE);
    h.appRunner.finish(broken.serviceArn, "SUCCEEDED");
    h.appRunner.finish(healthy.serviceArn, "SUCCEEDED");
    h.appRunner.beforeEach = async (method, serviceArn) => {
      if (serviceArn === broken.serviceArn && method === "listOperations") {
        throw awsError(
          "AccessDeniedException",
          "User is not authorized to perform: apprunner:ListOperations",
        );
      }
    };

    const effects = await reconcile(h.deps);

    expect(effects.find((effect) => effect.type === "outcome")).toMatchObject({ service: "healthy" });
    expect((await h.ledger.getRelease(healthy.serviceArn, digestOf("w1")))?.state).toBe("deployed");
    expect(effects.find((effect) => effect.type === "error")).toMatchObject({
      service: "broken",
      serviceArn: broken.serviceArn,
      level: "failure",
      reasons: [expect.stringContaining("AccessDeniedException")],
    });
  });

  it("a scan lookup that throws for one candidate does not stop the others from timing out", async () => {
    const h = coreHarness();
    const one = h.appRunner.addService({ name: "one", image: `${REGISTRY}/one:prod` });
    const two = h.appRunner.addService({ name: "two", image: `${REGISTRY}/two:prod` });
    await onImagePushed(
      h.deps,
      pushed({ repository: "one", digest: digestOf("o"), tag: "prod", time: h.clock.now() }),
    );
    await onImagePushed(
      h.deps,
      pushed({ repository: "two", digest: digestOf("t"), tag: "prod", time: h.clock.now() }),
    );
    h.clock.advance(31 * MINUTE);
    const describeScan = h.findings.describeScan.bind(h.findings);
    h.findings.describeScan = async (input) => {
      if (input.repository === "one") throw awsError("RepositoryNotFoundException", "gone", "client");
      return describeScan(input);
    };

    const effects = await reconcile(h.deps);

    expect((await h.ledger.getRelease(two.serviceArn, digestOf("t")))?.state).toBe("blocked");
    expect(effects.find((effect) => effect.type === "error")).toMatchObject({ serviceArn: one.serviceArn });
  });
});
