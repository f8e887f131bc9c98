/**
 * The CLI against a deployed stage (the sandbox standing in for it, reached only through the
 * environment a platform engineer exports from the stage's `cliEnvironment` output): who acts is
 * the AWS caller (sts:GetCallerIdentity), not $USER; re-gating uses the Gantry config the stage
 * runs, not a local file; a deploy the CLI starts can schedule a durable retry.
 */
import { Sandbox } from "@gantry/local";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  approveCommand,
  historyCommand,
  quarantineCommand,
  rollbackCommand,
} from "../../packages/cli/src/commands/ledger.ts";
import { main } from "../../packages/cli/src/main.ts";
import {
  basicScan,
  CALLER_ARN,
  capture,
  digest,
  NOW,
  now,
  pointCliAtStage,
  push,
} from "./scenario-helpers.ts";

/** What runs on the stage: two CRITICAL findings are acceptable here. */
const DEPLOYED = { policies: { default: { maxFindings: { CRITICAL: 2 } } } };

describe("gantry on a stage", () => {
  let sandbox: Sandbox;
  let serviceArn: string;
  const blocked = digest("stage: three critical");
  const risky = digest("stage: two critical, broken");
  const savedUser = process.env.USER;

  beforeAll(async () => {
    // A stage runs on real time, and so does the CLI: the stand-in and its events do too (a scan
    // older than maxScanAgeDays would be re-checked against ECR instead of judged).
    sandbox = await Sandbox.start({
      dynamodbEndpoint: inject("dynamodbEndpoint"),
      config: DEPLOYED,
      start: NOW,
    });
    serviceArn = sandbox.createService({ name: "checkout", image: "shop:prod" });
    sandbox.publish(now({ ...push("shop", blocked, "prod"), id: "push-blocked" }));
    sandbox.publish(now({ ...basicScan("shop", blocked, { CRITICAL: 3 }), id: "scan-blocked" }));
    await sandbox.settle();
    // Allowed by the stage's policy, then rolled back by App Runner: quarantined.
    sandbox.injectFault("checkout", { op: "UPDATE_SERVICE", outcome: "fail-rollback" });
    sandbox.publish(now({ ...push("shop", risky, "prod"), id: "push-risky" }));
    sandbox.publish(now({ ...basicScan("shop", risky, { CRITICAL: 2 }), id: "scan-risky" }));
    await sandbox.settle();
    // A developer's shell: $USER says someone else, and the local gantry.config.ts blocks any CRITICAL.
    process.env.USER = "mallory";
  });
  afterAll(async () => {
    process.env.USER = savedUser;
    await sandbox.stop();
  });

  let restore: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await restore?.();
    restore = undefined;
  });

  describe("with the stage's outputs and a deployed config", () => {
    beforeEach(async () => {
      restore = await pointCliAtStage(sandbox);
    });

    it("approve records the AWS caller as the actor, not $USER", async () => {
      const { io, out } = capture();
      expect(await approveCommand(["checkout", blocked, "--reason", "accepted risk, ticket SEC-1"], io)).toBe(
        0,
      );
      expect(out[0]).toMatch(/^approve checkout/);
      const release = await sandbox.ledger.getRelease(serviceArn, blocked);
      expect(release?.override).toMatchObject({ actor: CALLER_ARN, reason: "accepted risk, ticket SEC-1" });
      const history = await sandbox.ledger.history(serviceArn);
      expect(history.find((entry) => entry.type === "approve")?.actor).toBe(CALLER_ARN);
      await sandbox.settle();
    });

    it("quarantine lift re-judges with the deployed policy (the local file would block)", async () => {
      expect((await sandbox.ledger.getRelease(serviceArn, risky))?.quarantine).toBeDefined();
      const { io, out } = capture();
      expect(await quarantineCommand(["lift", "checkout", risky, "--reason", "health check fixed"], io)).toBe(
        0,
      );
      // gantry.config.ts allows no CRITICAL: judged by it, this would be `block`.
      expect(out.map((line) => line.split(" ")[0])).toEqual(["quarantine", "allow", "deploy"]);
      expect((await sandbox.ledger.getRelease(serviceArn, risky))?.quarantine?.liftedBy?.actor).toBe(
        CALLER_ARN,
      );
      await sandbox.settle();
    });

    it("rollback records the AWS caller too", async () => {
      const { io } = capture();
      expect(
        await rollbackCommand(["checkout", "--to", blocked, "--reason", "back to the approved one"], io),
      ).toBe(0);
      const history = await sandbox.ledger.history(serviceArn);
      expect(history.find((entry) => entry.type === "rollback" && entry.digest === blocked)?.reasons).toEqual(
        [`requested by ${CALLER_ARN}: back to the approved one`],
      );
      await sandbox.settle();
    });

    it("refuses --actor and --config: on a stage they would let a local shell speak for the stage", async () => {
      const actor = capture();
      expect(await main(["approve", "checkout", blocked, "--reason", "r", "--actor", "alice"])).toBe(2);
      expect(await approveCommand(["checkout", blocked, "--reason", "r", "--actor", "alice"], actor.io)).toBe(
        2,
      );
      expect(actor.err.join("\n")).toContain("--actor is for the sandbox");
      const config = capture();
      expect(await historyCommand(["checkout", "--config", "gantry.config.ts"], config.io)).toBe(2);
      expect(config.err.join("\n")).toContain("--config is for the sandbox");
    });

    it("history says which deployed config version it used", async () => {
      const { io, err } = capture();
      expect(await historyCommand(["checkout"], io)).toBe(0);
      expect(err.join("\n")).toContain("deployed Gantry config e2e000000000");
    });
  });

  it("a stage without the retry function and scheduler role cannot start a deploy (it could not retry it)", async () => {
    restore = await pointCliAtStage(sandbox);
    delete process.env.GANTRY_RETRY_FUNCTION_ARN;
    delete process.env.GANTRY_RETRY_ROLE_ARN;
    delete process.env.GANTRY_RETRY_SCHEDULE_GROUP;
    await expect(
      rollbackCommand(["checkout", "--to", blocked, "--reason", "again"], capture().io),
    ).rejects.toThrow(
      /GANTRY_RETRY_FUNCTION_ARN, GANTRY_RETRY_ROLE_ARN and GANTRY_RETRY_SCHEDULE_GROUP.*cliEnvironment/,
    );
  });

  it("a stage that has no deployed config is refused, never judged by a local file", async () => {
    const other = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
    try {
      other.createService({ name: "checkout", image: "shop:prod" });
      restore = await pointCliAtStage(other, { publishConfig: false });
      await expect(historyCommand(["checkout"], capture().io)).rejects.toThrow(
        /has no deployed Gantry config.*sst deploy/,
      );
    } finally {
      await restore?.();
      restore = undefined;
      await other.stop();
    }
  });
});
