import { Sandbox } from "@gantry/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { quarantineCommand, rollbackCommand } from "../../packages/cli/src/commands/ledger.ts";
import {
  basicScan,
  CALLER_ARN,
  capture,
  digest,
  NOW,
  now,
  pointCliAtStage,
  push,
  REGISTRY,
} from "./scenario-helpers.ts";

describe("gantry quarantine lift / rollback against a running sandbox", () => {
  let sandbox: Sandbox;
  let serviceArn: string;
  let restoreEnv: () => Promise<void>;
  const [v1, v2, broken] = [digest("v1"), digest("v2"), digest("broken")];
  const running = () => {
    const source = sandbox.appRunner.snapshot().services[0]?.service.SourceConfiguration as
      | { ImageRepository: { ImageIdentifier: string } }
      | undefined;
    return source?.ImageRepository.ImageIdentifier;
  };

  beforeAll(async () => {
    // A stage runs on real time, and so does the CLI: the stand-in and its events do too (a scan
    // older than maxScanAgeDays would be re-checked against ECR instead of judged).
    sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint"), start: NOW });
    serviceArn = sandbox.createService({ name: "storefront", image: "web:prod" });
    for (const [index, image] of [v1, v2].entries()) {
      sandbox.publish(now({ ...push("web", image, "prod"), id: `push-${index}` }));
      sandbox.publish(now({ ...basicScan("web", image), id: `scan-${index}` }));
      await sandbox.settle();
    }
    sandbox.injectFault("storefront", { op: "UPDATE_SERVICE", outcome: "fail-rollback" });
    sandbox.publish(now({ ...push("web", broken, "prod"), id: "push-broken" }));
    sandbox.publish(now({ ...basicScan("web", broken), id: "scan-broken" }));
    await sandbox.settle();
    restoreEnv = await pointCliAtStage(sandbox);
  });
  afterAll(async () => {
    await restoreEnv();
    await sandbox.stop();
  });

  it("the broken digest was rolled back and quarantined; v2 still runs", async () => {
    expect((await sandbox.ledger.getRelease(serviceArn, broken))?.state).toBe("rolled-back");
    expect(running()).toBe(`${REGISTRY}/web@${v2}`);
  });

  it("rollback without --to deploys the last known good release that is not running (v1), recorded", async () => {
    const { io, out } = capture();
    expect(await rollbackCommand(["storefront", "--reason", "v2 leaks memory"], io)).toBe(0);
    expect(out[0]).toMatch(/^rollback storefront .* rolling back to sha256:/);
    expect(out[1]).toMatch(/^deploy storefront/);
    await sandbox.settle();
    expect(running()).toBe(`${REGISTRY}/web@${v1}`);
    const history = await sandbox.ledger.history(serviceArn);
    expect(history.find((entry) => entry.type === "rollback" && entry.actor === CALLER_ARN)?.reasons).toEqual(
      [`requested by ${CALLER_ARN}: v2 leaks memory`],
    );
  });

  it("refuses to roll back to a quarantined digest, and needs a reason", async () => {
    await expect(
      rollbackCommand(["storefront", "--to", broken, "--reason", "try"], capture().io),
    ).rejects.toThrow(/quarantined; lift it first/);
    expect(await rollbackCommand(["storefront"], capture().io)).toBe(2);
  });

  it("quarantine lift re-judges the digest by the gate and deploys it", async () => {
    const { io, out } = capture();
    expect(
      await quarantineCommand(["lift", "storefront", broken, "--reason", "fixed the health check path"], io),
    ).toBe(0);
    expect(out.map((line) => line.split(" ")[0])).toEqual(["quarantine", "allow", "deploy"]);
    await sandbox.settle();
    expect(running()).toBe(`${REGISTRY}/web@${broken}`);
    expect((await sandbox.ledger.getRelease(serviceArn, broken))?.quarantine?.liftedBy).toMatchObject({
      actor: CALLER_ARN,
    });
    await expect(
      quarantineCommand(["lift", "storefront", broken, "--reason", "again"], capture().io),
    ).rejects.toThrow(/not quarantined/);
  });
});
