import { describe, expect, it } from "vitest";
import {
  type AppRunnerPauseCalled,
  classifyPauser,
  handlePaused,
  PAUSE_GRACE_MS,
  parseGantryConfig,
  recordPauseCall,
} from "../../src/index.ts";
import { type CoreHarness, coreHarness, REGISTRY } from "../support/core-harness.ts";

const MINUTE = 60_000;
const NIGHTLY = "arn:aws:sts::111122223333:assumed-role/nightly-scaler/lambda";
const config = {
  automationPrincipals: ["arn:aws:sts::*:assumed-role/nightly-scaler/*"],
  policies: { default: { autoResume: true } },
};

function setup(): CoreHarness & { serviceArn: string } {
  const harness = coreHarness(config);
  const { serviceArn } = harness.appRunner.addService({
    name: "reports",
    image: `${REGISTRY}/reports:prod`,
    status: "PAUSED",
  });
  return { ...harness, serviceArn };
}

function pauseCall(
  h: CoreHarness,
  serviceArn: string,
  identity: AppRunnerPauseCalled["identity"],
  time: Date,
) {
  return recordPauseCall(h.deps, {
    kind: "apprunner-pause-called",
    eventId: `ct-${time.toISOString()}`,
    account: "111122223333",
    region: "us-east-1",
    time,
    serviceArn,
    actor: identity.arn ?? identity.type,
    identity,
  });
}

/** The status event, then the reconciler once CloudTrail had time to report the caller. */
async function pauseSeenThenReconciled(h: CoreHarness & { serviceArn: string }) {
  const service = () => h.appRunner.describeService(h.serviceArn);
  const seen = await handlePaused(h.deps, await service());
  h.clock.advance(PAUSE_GRACE_MS + MINUTE);
  return [...seen, ...(await handlePaused(h.deps, await service()))];
}

function pauseAgain(h: CoreHarness & { serviceArn: string }) {
  const service = h.appRunner.services.get(h.serviceArn);
  if (service) service.status = "PAUSED";
}

function resumed(h: CoreHarness, serviceArn: string) {
  return h.appRunner.calls.filter((call) => call.method === "resumeService" && call.serviceArn === serviceArn)
    .length;
}

describe("who paused a service", () => {
  it("resumes a pause made by a declared automation principal", async () => {
    const h = setup();
    await pauseCall(h, h.serviceArn, { type: "AssumedRole", arn: NIGHTLY }, h.clock.now());
    const effects = await pauseSeenThenReconciled(h);
    expect(effects.map((effect) => effect.type)).toEqual(["paused", "resume"]);
    expect(resumed(h, h.serviceArn)).toBe(1);
  });

  it("never resumes when nobody knows who paused it (no CloudTrail record): fail closed, said once", async () => {
    const h = setup();
    const effects = await pauseSeenThenReconciled(h);
    expect(resumed(h, h.serviceArn)).toBe(0);
    expect(effects.at(-1)).toMatchObject({
      type: "paused",
      level: "warning",
      reasons: [expect.stringContaining("no CloudTrail record")],
    });
    h.clock.advance(10 * MINUTE);
    expect(await handlePaused(h.deps, await h.appRunner.describeService(h.serviceArn))).toEqual([]);
  });

  it("a new pause never inherits the previous pause's actor", async () => {
    const h = setup();
    await pauseCall(h, h.serviceArn, { type: "AssumedRole", arn: NIGHTLY }, h.clock.now());
    await pauseSeenThenReconciled(h);
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    expect(resumed(h, h.serviceArn)).toBe(1);

    // A person pauses it again; CloudTrail's record of that call never arrives.
    h.clock.advance(60 * MINUTE);
    pauseAgain(h);
    await pauseSeenThenReconciled(h);
    expect(resumed(h, h.serviceArn)).toBe(1);
  });

  it("a late CloudTrail record of the previous pause does not attribute the current one", async () => {
    const h = setup();
    const firstCall = h.clock.now();
    await pauseCall(
      h,
      h.serviceArn,
      { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/alice" },
      firstCall,
    );
    await pauseSeenThenReconciled(h); // a person's pause: left paused
    // Alice resumes it by hand; later automation pauses it, and only the old record shows up again.
    h.clock.advance(30 * MINUTE);
    const service = h.appRunner.services.get(h.serviceArn);
    if (service) service.status = "RUNNING";
    await handlePaused(h.deps, await h.appRunner.describeService(h.serviceArn));
    h.clock.advance(30 * MINUTE);
    pauseAgain(h);
    await handlePaused(h.deps, await h.appRunner.describeService(h.serviceArn));
    await pauseCall(
      h,
      h.serviceArn,
      { type: "AssumedRole", arn: NIGHTLY },
      new Date(firstCall.getTime() - MINUTE),
    );
    h.clock.advance(PAUSE_GRACE_MS + MINUTE);
    await handlePaused(h.deps, await h.appRunner.describeService(h.serviceArn));
    expect(resumed(h, h.serviceArn)).toBe(0);
  });

  it("a person's pause is left alone", async () => {
    const h = setup();
    await pauseCall(
      h,
      h.serviceArn,
      { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com" },
      h.clock.now(),
    );
    await pauseSeenThenReconciled(h);
    expect(resumed(h, h.serviceArn)).toBe(0);
  });
});

describe("classifyPauser", () => {
  const parsed = parseGantryConfig(config);
  it.each([
    [{ type: "AssumedRole", arn: NIGHTLY }, "automation"],
    [{ type: "AWSService", invokedBy: "scheduler.amazonaws.com" }, "automation"],
    [{ type: "IAMUser", arn: "arn:aws:iam::111122223333:user/alice" }, "person"],
    [{ type: "Root", arn: "arn:aws:iam::111122223333:root" }, "person"],
    [
      { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_1/alice" },
      "person",
    ],
    // Federated console sessions are assumed roles too: a role is automation only when declared.
    [
      { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com" },
      "person",
    ],
    [{ type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/nightly-scaler-v2/x" }, "person"],
  ] as const)("%o is a %s", (identity, expected) => {
    expect(classifyPauser(parsed, identity)).toBe(expected);
  });
});
