import { Sandbox } from "@gantry/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { quarantineCommand, rollbackCommand } from "../../packages/cli/src/commands/ledger.ts";
import { basicScan, capture, digest, pointCliAt, push, REGISTRY } from "./scenario-helpers.ts";

describe("gantry quarantine lift / rollback against a running sandbox", () => {
  let sandbox: Sandbox;
  let serviceArn: string;
  let restoreEnv: () => void;
  const [v1, v2, broken] = [digest("v1"), digest("v2"), digest("broken")];
  const running = () => {
    const source = sandbox.appRunner.snapshot().services[0]?.service.SourceConfiguration as
      | { ImageRepository: { ImageIdentifier: string } }
      | undefined;
    return source?.ImageRepository.ImageIdentifier;
  };

  beforeAll(async () => {
    sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
    serviceArn = sandbox.createService({ name: "storefront", image: "web:prod" });
    for (const [index, image] of [v1, v2].entries()) {
      sandbox.publish({ ...push("web", image, "prod"), id: `push-${index}` });
      sandbox.publish({ ...basicScan("web", image), id: `scan-${index}` });
      await sandbox.settle();
    }
    sandbox.injectFault("storefront", { op: "UPDATE_SERVICE", outcome: "fail-rollback" });
    sandbox.publish({ ...push("web", broken, "prod"), id: "push-broken" });
    sandbox.publish({ ...basicScan("web", broken), id: "scan-broken" });
    await sandbox.settle();
    restoreEnv = pointCliAt(sandbox);
  });
  afterAll(async () => {
    restoreEnv();
    await sandbox.stop();
  });

  it("the broken digest was rolled back and quarantined; v2 still runs", async () => {
    expect((await sandbox.ledger.getRelease(serviceArn, broken))?.state).toBe("rolled-back");
    expect(running()).toBe(`${REGISTRY}/web@${v2}`);
  });

  it("rollback without --to deploys the last known good release that is not running (v1), recorded", async () => {
    const { io, out } = capture();
    expect(await rollbackCommand(["storefront", "--reason", "v2 leaks memory", "--actor", "bob"], io)).toBe(
      0,
    );
    expect(out[0]).toMatch(/^rollback storefront .* rolling back to sha256:/);
    expect(out[1]).toMatch(/^deploy storefront/);
    await sandbox.settle();
    expect(running()).toBe(`${REGISTRY}/web@${v1}`);
    const history = await sandbox.ledger.history(serviceArn);
    expect(history.find((entry) => entry.type === "rollback" && entry.actor === "bob")?.reasons).toEqual([
      "requested by bob: v2 leaks memory",
    ]);
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
      await quarantineCommand(
        ["lift", "storefront", broken, "--reason", "fixed the health check path", "--actor", "carol"],
        io,
      ),
    ).toBe(0);
    expect(out.map((line) => line.split(" ")[0])).toEqual(["quarantine", "allow", "deploy"]);
    await sandbox.settle();
    expect(running()).toBe(`${REGISTRY}/web@${broken}`);
    expect((await sandbox.ledger.getRelease(serviceArn, broken))?.quarantine?.liftedBy).toMatchObject({
      actor: "carol",
    });
    await expect(
      quarantineCommand(["lift", "storefront", broken, "--reason", "again"], capture().io),
    ).rejects.toThrow(/not quarantined/);
  });
});
