import { Sandbox } from "@gantry/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { configCheckCommand } from "../../packages/cli/src/commands/config-check.ts";
import { approveCommand, historyCommand } from "../../packages/cli/src/commands/ledger.ts";
import { replayCommand } from "../../packages/cli/src/commands/replay.ts";
import { basicScan, CALLER_ARN, capture, digest, pointCliAtStage, push } from "./scenario-helpers.ts";

describe("gantry replay", () => {
  beforeAll(() => {
    process.env.GANTRY_SANDBOX_DYNAMODB_ENDPOINT = inject("dynamodbEndpoint");
  });

  it("prints one JSON effect per line for the example scenario, in order", async () => {
    const { io, out } = capture();
    expect(await replayCommand(["examples/gated-deploy.scenario.json", "--json"], io)).toBe(0);
    // Slack posts are effects too (the Slack stand-in's side); this test is about the gate's.
    const effects = out.map((line) => JSON.parse(line)).filter((effect) => effect.type !== "slack");
    expect(effects.map((effect) => effect.type)).toEqual([
      "candidate",
      "allow",
      "deploy",
      "outcome",
      "candidate",
      "block",
      "ignore",
    ]);
    expect(effects.find((effect) => effect.type === "block")).toMatchObject({
      service: "storefront",
      reasons: ["1 CRITICAL finding (allowed: 0)"],
    });
    expect(effects.find((effect) => effect.type === "deploy").operationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("takes a JSON config: audit mode deploys what the default policy blocks", async () => {
    const { io, out } = capture();
    await replayCommand(
      ["examples/gated-deploy.scenario.json", "--json", "--config", "examples/audit.config.json"],
      io,
    );
    expect(out.map((line) => JSON.parse(line).type).filter((type) => type === "deploy")).toHaveLength(2);
  });

  it("replays the incident-rehearsal example: rollback, quarantine, retry, recreate, resume", async () => {
    const { io, out } = capture();
    const args = [
      "examples/self-healing.scenario.json",
      "--json",
      "--config",
      "examples/self-healing.config.json",
    ];
    expect(await replayCommand(args, io)).toBe(0);
    const effects = out.map((line) => JSON.parse(line)).filter((effect) => effect.type !== "slack");
    const story = effects
      .filter((effect) => !["candidate", "allow", "paused"].includes(effect.type))
      .map((effect) => `${effect.type} ${effect.service ?? "-"}`);
    expect(story).toEqual([
      "deploy checkout",
      "recreate billing",
      "rollback checkout",
      "quarantine checkout",
      "recreate billing",
      "outcome billing",
      "deploy checkout",
      "retry checkout",
      "deploy checkout",
      "outcome checkout",
      "ignore checkout",
      "resume reports",
    ]);
    expect(effects.find((effect) => effect.type === "rollback")).toMatchObject({ cause: "health-check" });
  });

  it("rejects a file that is not a scenario, naming what is wrong", async () => {
    await expect(
      replayCommand(["test/fixtures/aws-events/ecr-image-action-push-success.json"], capture().io),
    ).rejects.toThrow(/invalid scenario:[\s\S]*Unrecognized keys/);
    await expect(replayCommand(["no-such-file.json"], capture().io)).rejects.toThrow(
      /cannot read scenario no-such-file.json/,
    );
  });
});

describe("gantry approve / history against a running sandbox", () => {
  let sandbox: Sandbox;
  let restoreEnv: () => Promise<void>;
  const blocked = digest("payments critical");

  beforeAll(async () => {
    sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
    sandbox.createService({ name: "payments", image: "api:prod" });
    sandbox.publish(push("api", blocked, "prod"));
    sandbox.publish(basicScan("api", blocked, { CRITICAL: 2 }));
    await sandbox.settle();
    restoreEnv = await pointCliAtStage(sandbox);
  });
  afterAll(async () => {
    await restoreEnv();
    await sandbox.stop();
  });

  it("refuses an approval without a reason", async () => {
    const { io, err } = capture();
    expect(await approveCommand(["payments", blocked], io)).toBe(2);
    expect(err[0]).toMatch(/--reason/);
  });

  it("approves a blocked digest: deploys it and records who and why", async () => {
    const { io, out } = capture();
    expect(await approveCommand(["payments", blocked, "--reason", "fixed upstream"], io)).toBe(0);
    expect(out[0]).toMatch(/^approve payments/);
    expect(out[1]).toMatch(/^deploy payments .* UpdateService to .*api@sha256:/);
    await sandbox.settle();

    const history = capture();
    expect(await historyCommand(["payments", "--json"], history.io)).toBe(0);
    const { releases, journal } = JSON.parse(history.out.join("\n"));
    expect(releases[0]).toMatchObject({
      digest: blocked,
      state: "deployed",
      override: { actor: CALLER_ARN, reason: "fixed upstream" },
    });
    expect(journal.map((entry: { type: string }) => entry.type)).toEqual(
      expect.arrayContaining(["candidate", "block", "approve", "deploy", "outcome"]),
    );
    expect(sandbox.sns.messages.some((message) => message.attributes.kind?.value === "approve")).toBe(true);
  });

  it("prints a readable table and explains an unknown service", async () => {
    const table = capture();
    expect(await historyCommand(["payments"], table.io)).toBe(0);
    expect(table.out.join("\n")).toContain(`approved by ${CALLER_ARN}`);
    await expect(historyCommand(["nope"], capture().io)).rejects.toThrow(
      /no Gantry-managed service named "nope" \(managed services: payments\)/,
    );
  });
});

describe("gantry config check", () => {
  it("accepts the repository's gantry.config.ts and rejects a bad JSON config, naming the field", async () => {
    const good = capture();
    expect(await configCheckCommand(["gantry.config.ts"], good.io)).toBe(0);
    expect(good.out[0]).toBe("gantry.config.ts is valid. Default policy: default");
    const bad = capture();
    expect(await configCheckCommand(["test/fixtures/configs/invalid.config.json"], bad.io)).toBe(1);
    expect(bad.err[0]).toMatch(/policies\.strict\.maxFindings\.HIGH/);
  });
});
