import { describe, expect, it } from "vitest";
import { onImagePushed, onImageScanned } from "../../src/index.ts";
import { coreHarness, digestOf, operationEnded, pushed, REGISTRY, scanned } from "../support/core-harness.ts";

const MINUTE = 60_000;

async function failedDeploy(port: number | undefined, logs: string[]) {
  const h = coreHarness();
  const { serviceArn } = h.appRunner.addService({
    name: "web",
    image: `${REGISTRY}/web:prod`,
    ...(port ? { port } : {}),
  });
  const digest = digestOf("v1");
  await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time: h.clock.now() }));
  await onImageScanned(h.deps, scanned({ repository: "web", digest, time: h.clock.now() }));
  h.logs.lines.set("web", logs);
  h.clock.advance(5 * MINUTE);
  h.appRunner.finish(serviceArn, "ROLLBACK_SUCCEEDED");
  await operationEnded(h, serviceArn, { operationStatus: "UpdateServiceFailed", outcome: "failed" });
  return (await h.ledger.getRelease(serviceArn, digest))?.failure;
}

describe("a failed deploy's cause is judged against the service's own port", () => {
  const logs = ["Server listening on port 8080", "[AppRunner] Health check failed on protocol `TCP`."];

  it("an app listening on 8080 behind a service configured for 3000 is a port mismatch", async () => {
    expect((await failedDeploy(3000, logs))?.cause).toBe("port-mismatch");
  });

  it("the same lines on a service configured for 8080 are a failing health check", async () => {
    expect((await failedDeploy(8080, logs))?.cause).toBe("health-check");
  });
});
