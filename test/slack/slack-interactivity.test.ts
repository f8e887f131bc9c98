/**
 * Buttons in Slack, end to end in the sandbox: the stand-in signs a button press as Slack does, the
 * real interactivity handler verifies it, checks the approver list and acknowledges at once; the
 * real worker, invoked asynchronously as in Lambda, applies the same use case as the CLI and the
 * thread then tells what happened.
 */
import { createHash } from "node:crypto";
import { ecrImagePushEvent, ecrImageScanEvent } from "@gantry/events";
import { type LocalSlackMessage, SANDBOX_APPROVER, Sandbox } from "@gantry/local";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";

const ACCOUNT = "111122223333";
const T0 = new Date("2026-11-02T09:00:00Z");
const digest = `sha256:${createHash("sha256").update("payments critical").digest("hex")}`;
const STRANGER = { id: "U0STRANGER", name: "sam" };

let sandbox: Sandbox;
let arn: string;

beforeEach(async () => {
  sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
  arn = sandbox.createService({ name: "payments", image: "api:prod" });
  const common = { account: ACCOUNT, region: "us-east-1", repositoryName: "api", digest, time: T0 };
  sandbox.publish(ecrImagePushEvent({ ...common, tag: "prod" }));
  sandbox.publish(ecrImageScanEvent({ ...common, tags: ["prod"], severityCounts: { CRITICAL: 2 } }));
  await sandbox.settle();
});
afterEach(() => sandbox.stop());

const slack = () => sandbox.slack!;
const headline = () => slack().headline("deploys", "payments") as LocalSlackMessage;
const buttonsOf = (message: LocalSlackMessage) =>
  message.blocks.flatMap((block) =>
    block.type === "actions" ? block.elements.map((button) => button.action_id) : [],
  );
const stateOf = async () => (await sandbox.ledger.getRelease(arn, digest))?.state;
const press = (
  actionId: string,
  user: { id: string; name: string } = SANDBOX_APPROVER,
  extra: { timestamp?: number; signingSecret?: string } = {},
) => slack().standIn.buttonPress({ message: headline(), actionId, user, ...extra });

describe("Slack interactivity", () => {
  it("the blocked release's headline offers the decision", async () => {
    expect(headline().text).toContain("payments: blocked");
    expect(buttonsOf(headline())).toEqual(["gantry.approve-once", "gantry.keep-blocked"]);
  });

  it("refuses forged, stale and replayed requests; nothing changes", async () => {
    const forgedBody = press("gantry.approve-once");
    const forged = await slack().interact({
      ...forgedBody,
      body: forgedBody.body.replace("avery", "mallory"),
    });
    const wrongSecret = await slack().interact(
      press("gantry.approve-once", SANDBOX_APPROVER, { signingSecret: "guessed" }),
    );
    const now = Math.floor(sandbox.clock.now().getTime() / 1000);
    const stale = await slack().interact(
      press("gantry.approve-once", SANDBOX_APPROVER, { timestamp: now - 301 }),
    );
    const unsigned = await slack().interact({
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: forgedBody.body,
    });
    for (const response of [forged, wrongSecret, stale, unsigned]) expect(response.statusCode).toBe(401);
    expect(await stateOf()).toBe("blocked");

    // A genuine press, then the very same bytes again: the copy is refused.
    const genuine = press("gantry.keep-blocked");
    expect((await slack().interact(genuine)).statusCode).toBe(200);
    expect((await slack().interact(genuine)).statusCode).toBe(401);
    await sandbox.settle();
    const kept = (await sandbox.ledger.history(arn)).filter((entry) => entry.key.startsWith("keep-blocked#"));
    expect(kept).toHaveLength(1);
  });

  it("a valid press from someone not on the approver list changes nothing and tells them so", async () => {
    const response = await slack().interact(press("gantry.approve-once", STRANGER));
    expect(response.statusCode).toBe(200);
    await sandbox.settle();
    expect(await stateOf()).toBe("blocked");
    expect((await sandbox.ledger.history(arn)).map((entry) => entry.type)).not.toContain("approve");
    const ephemeral = slack().standIn.messages.filter((message) => message.ephemeralTo);
    expect(ephemeral.map((message) => [message.ephemeralTo, message.text])).toEqual([
      [STRANGER.id, "Only Gantry's approvers can approve once; nothing was changed."],
    ]);
  });

  it("acknowledges before the action runs: the 200 waits on neither App Runner nor a slow Slack; the worker updates the message after", async () => {
    const appRunnerCalls = sandbox.appRunner.calls.length;
    // Slack answers nothing until released: whatever calls Slack is parked there.
    const slow = slack().standIn.hold();
    const first = await Promise.race([
      slack()
        .interact(press("gantry.approve-once"))
        .then((response) => ({ acknowledged: response.statusCode })),
      slow.arrived.then((method) => ({ waitedOnSlack: method })),
    ]);
    expect(first).toEqual({ acknowledged: 200 });
    // Acknowledged, not yet applied: the press waits in the worker's asynchronous invocation.
    expect(await stateOf()).toBe("blocked");
    expect(sandbox.appRunner.calls.slice(appRunnerCalls).map((call) => call.op)).toEqual([]);
    expect(sandbox.clock.pending().map((timer) => timer.label)).toContain(
      "invoke slack-interactivity-worker (attempt 1)",
    );

    // The worker runs: it applies the action, then its message update waits on the slow Slack.
    const settled = sandbox.settle();
    await slow.arrived;
    expect(await stateOf()).toBe("deploying");
    expect(sandbox.appRunner.calls.slice(appRunnerCalls).map((call) => call.op)).toContain("UpdateService");
    expect(headline().text).toContain("payments: blocked");
    slow.release();
    await settled;
    expect(headline().text).toContain("payments: live");
    expect(buttonsOf(headline())).toEqual([]);
  });

  it("Approve once from an approver: approved through the use case, recorded with the Slack user, deployed; the thread says so", async () => {
    const response = await slack().interact(press("gantry.approve-once"));
    expect(response.statusCode).toBe(200);
    // Applied by the worker (asynchronous), which edits the headline before the notifications come
    // through SNS.
    await sandbox.clock.step();
    expect(headline().text).toContain("payments: deploying");
    expect(buttonsOf(headline())).toEqual([]);

    await sandbox.settle();
    const release = await sandbox.ledger.getRelease(arn, digest);
    expect(release).toMatchObject({
      state: "deployed",
      override: { actor: "avery (Slack U0APPROVER)", reason: "approved once in Slack" },
    });
    const approve = (await sandbox.ledger.history(arn)).find((entry) => entry.type === "approve");
    expect(approve?.actor).toBe("avery (Slack U0APPROVER)");

    const thread = slack()
      .standIn.roots("deploys")
      .filter((root) => root.text.startsWith("payments:"));
    expect(thread).toHaveLength(1);
    expect(
      slack()
        .standIn.replies(thread[0]!)
        .map((reply) => reply.text.split(":").slice(0, 2).join(":")),
    ).toEqual([
      "payments: Blocked",
      "payments: Approved by a person",
      "payments: Deploying",
      "payments: Deployment finished",
    ]);
    expect(headline().text).toContain("payments: live");
    expect(JSON.stringify(headline().blocks)).toContain(
      "Approved by* avery (Slack U0APPROVER): approved once in Slack",
    );
    // The second press finds nothing left to approve and says so to the presser only.
    expect(
      (
        await slack().interact(
          slack().standIn.buttonPress({
            message: thread[0]!.edits[0] ? { ...thread[0]!, blocks: thread[0]!.edits[0].blocks } : thread[0]!,
            actionId: "gantry.approve-once",
            user: SANDBOX_APPROVER,
          }),
        )
      ).statusCode,
    ).toBe(200);
    await sandbox.settle();
    expect(
      slack()
        .standIn.messages.filter((message) => message.ephemeralTo)
        .map((message) => message.text),
    ).toEqual([expect.stringMatching(/^Could not approve once: release payments@sha256:\S+ is deployed/)]);
  });

  it("Keep blocked: journaled with the Slack user; the headline drops the buttons and says who", async () => {
    expect((await slack().interact(press("gantry.keep-blocked"))).statusCode).toBe(200);
    await sandbox.settle();
    expect(await stateOf()).toBe("blocked");
    const kept = (await sandbox.ledger.history(arn)).find((entry) => entry.key.startsWith("keep-blocked#"));
    expect(kept).toMatchObject({ type: "block", actor: "avery (Slack U0APPROVER)" });
    expect(buttonsOf(headline())).toEqual([]);
    expect(JSON.stringify(headline().blocks)).toContain("Kept blocked by* avery (Slack U0APPROVER)");
    const [root] = slack().standIn.roots("deploys");
    expect(slack().standIn.replies(root!).at(-1)?.text).toBe(
      "payments: Blocked: avery (Slack U0APPROVER) kept the release blocked",
    );
  });

  it("recorded in the timeline: each post and edit the stand-in received, as `slack` effects", async () => {
    await slack().interact(press("gantry.approve-once"));
    await sandbox.settle();
    const posts = sandbox.effects().filter((effect) => effect.type === "slack");
    const root = headline().ts;
    expect(posts.every((effect) => effect.channel === "deploys" && effect.thread === root)).toBe(true);
    expect(posts.map((effect) => effect.action)).toEqual([
      "post",
      "reply",
      "update", // the press itself
      "reply",
      "reply",
      "reply",
      "update",
    ]);
  });
});
