/**
 * The whole story in the sandbox: push → scan → deploy → failure → rollback, told in one Slack
 * thread per release; then the rolled-back release's buttons; then the replay contract.
 */
import { createHash } from "node:crypto";
import { ecrImagePushEvent, ecrImageScanEvent } from "@gantry/events";
import { type LocalSlackMessage, parseScenario, replayScenario, Sandbox } from "@gantry/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const ACCOUNT = "111122223333";
const digestOf = (name: string) => `sha256:${createHash("sha256").update(name).digest("hex")}`;
const good = digestOf("web v1");
const bad = digestOf("web v2");

function pushAndScan(sandbox: Sandbox, digest: string) {
  const common = {
    account: ACCOUNT,
    region: "us-east-1",
    repositoryName: "web",
    digest,
    time: sandbox.clock.now(),
  };
  sandbox.putImage({ repository: "web", digest, tags: ["prod"] });
  sandbox.publish(ecrImagePushEvent({ ...common, tag: "prod" }));
  sandbox.publish(ecrImageScanEvent({ ...common, tags: ["prod"], severityCounts: {} }));
}

const short = (digest: string) => digest.slice(0, 19);
const threadOf = (sandbox: Sandbox, digest: string) =>
  sandbox.slack!.standIn.roots("deploys").filter((root) => root.text.includes(short(digest)));
const replies = (sandbox: Sandbox, root: LocalSlackMessage) =>
  sandbox.slack!.standIn.replies(root).map((reply) => reply.text.replace(/^storefront: /, "").split(":")[0]);
const buttons = (message: LocalSlackMessage) =>
  message.blocks.flatMap((block) =>
    block.type === "actions" ? block.elements.map((button) => button.text.text) : [],
  );

describe("push → scan → deploy → failure → rollback, in Slack", () => {
  let sandbox: Sandbox;
  let arn: string;

  beforeAll(async () => {
    sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
    arn = sandbox.createService({ name: "storefront", image: "web:prod" });
    pushAndScan(sandbox, good);
    await sandbox.settle();
    sandbox.appRunner.injectFault({ service: "storefront", op: "UPDATE_SERVICE", outcome: "fail-rollback" });
    await sandbox.clock.advance(60_000);
    pushAndScan(sandbox, bad);
    await sandbox.settle();
  });
  afterAll(() => sandbox.stop());

  it("the failed release has one thread whose replies tell the story and whose headline shows the end", async () => {
    expect((await sandbox.ledger.getRelease(arn, bad))?.state).toBe("rolled-back");
    const [root, ...more] = threadOf(sandbox, bad);
    expect(more).toEqual([]);
    expect(replies(sandbox, root!)).toEqual(["Scan passed", "Deploying", "Rolled back", "Quarantine"]);
    expect(root!.text).toBe(`storefront: rolled back (${short(bad)}…)`);
    expect(root!.edits.length).toBeGreaterThan(0);
    expect(buttons(root!)).toEqual(["Roll back to last good", "Lift quarantine"]);
    const rolledBack = sandbox.slack!.standIn.replies(root!)[2]!;
    expect(JSON.stringify(rolledBack.blocks)).toMatch(/ended ROLLBACK_SUCCEEDED/);
  });

  it("the good release kept its own thread, live", () => {
    const [root, ...more] = threadOf(sandbox, good);
    expect(more).toEqual([]);
    expect(root!.text).toBe(`storefront: live (${short(good)}…)`);
    expect(replies(sandbox, root!)).toEqual(["Scan passed", "Deploying", "Deployment finished"]);
  });

  it("each post and edit is a `slack` effect on the timeline, with channel, thread, action and text", () => {
    const [root] = threadOf(sandbox, bad);
    const story = sandbox.effects().filter((effect) => effect.type === "slack" && effect.thread === root!.ts);
    expect(story.map((effect) => effect.action)).toEqual([
      "post",
      "reply",
      "reply",
      "reply",
      "update",
      "reply",
    ]);
    expect(story[0]).toMatchObject({ channel: "deploys", thread: root!.ts, action: "post" });
    expect(story.at(-2)).toMatchObject({
      action: "update",
      text: `storefront: rolled back (${short(bad)}…)`,
    });
  });

  // App Runner already went back to v1, the last good release the button names: nothing to do,
  // and the presser is told so.
  it("Roll back to last good: the button names v1; App Runner already runs it, and the presser is told so", async () => {
    const [root] = threadOf(sandbox, bad);
    expect(JSON.stringify(root!.blocks)).toContain(`Gantry deploys ${short(good)}`);
    const response = await sandbox.slack!.press({ message: root!, actionId: "gantry.rollback-to-last-good" });
    expect(response.statusCode).toBe(200);
    await sandbox.settle();
    const notice = sandbox.slack!.standIn.messages.filter((message) => message.ephemeralTo).at(-1);
    expect(notice?.text).toBe(`Could not roll back to last good: ${good} is already running on storefront`);
    expect((await sandbox.ledger.getRelease(arn, good))?.state).toBe("deployed");
    expect((await sandbox.ledger.getRelease(arn, good))?.override).toBeUndefined();
  });

  it("Lift quarantine: recorded with the Slack user; judged again, redeployed, and the same thread says so", async () => {
    const [root] = threadOf(sandbox, bad);
    expect(
      (await sandbox.slack!.press({ message: root!, actionId: "gantry.lift-quarantine" })).statusCode,
    ).toBe(200);
    await sandbox.settle();
    const release = await sandbox.ledger.getRelease(arn, bad);
    expect(release).toMatchObject({
      state: "deployed",
      quarantine: { liftedBy: { actor: "avery (Slack U0APPROVER)" } },
    });
    const [same, ...more] = threadOf(sandbox, bad);
    expect(more).toEqual([]);
    expect(replies(sandbox, same!).slice(4)).toEqual([
      "Quarantine",
      "Scan passed",
      "Deploying",
      "Deployment finished",
    ]);
    expect(same!.text).toBe(`storefront: live (${short(bad)}…)`);
    expect(buttons(same!)).toEqual([]);
  });

  it("prints the conversation readably", () => {
    const text = sandbox.slack!.render();
    expect(text).toContain("#deploys");
    expect(text).toMatch(/↳ \[\d\d:\d\d:\d\d\] ↩️ Rolled back — deployment failed/);
    expect(text).not.toContain("&amp;");
  });
});

describe("Roll back to last good, when App Runner does not run the last good release", () => {
  it("deploys exactly the digest the button names, once: a second press is refused and told why; the headline stops offering it", async () => {
    const sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
    try {
      const arn = sandbox.createService({ name: "storefront", image: "web:prod" });
      const [v1, v2, v3] = [digestOf("web r1"), digestOf("web r2"), digestOf("web r3")];
      for (const digest of [v1, v2]) {
        pushAndScan(sandbox, digest);
        await sandbox.settle();
      }
      // Someone points the service at the mutable tag again, outside Gantry; v3 then fails and App
      // Runner goes back to that: not the digest Gantry last saw go live.
      const { Service } = (await sandbox.appRunner.handle("DescribeService", { ServiceArn: arn })) as {
        Service: { SourceConfiguration: { ImageRepository: Record<string, unknown> } };
      };
      const source = Service.SourceConfiguration;
      await sandbox.appRunner.handle("UpdateService", {
        ServiceArn: arn,
        SourceConfiguration: {
          ...source,
          ImageRepository: { ...source.ImageRepository, ImageIdentifier: `${sandbox.registry}/web:prod` },
        },
      });
      await sandbox.settle();
      sandbox.appRunner.injectFault({
        service: "storefront",
        op: "UPDATE_SERVICE",
        outcome: "fail-rollback",
      });
      pushAndScan(sandbox, v3);
      await sandbox.settle();
      expect((await sandbox.ledger.getRelease(arn, v3))?.state).toBe("rolled-back");
      const [pressed] = threadOf(sandbox, v3);
      expect(buttons(pressed!)).toEqual(["Roll back to last good", "Lift quarantine"]);
      expect(JSON.stringify(pressed!.blocks)).toContain(`Gantry deploys ${short(v2)}`);

      // Pressed twice (a double click, or two people): both acknowledged, neither applied yet.
      const presses = [
        await sandbox.slack!.press({ message: pressed!, actionId: "gantry.rollback-to-last-good" }),
        await sandbox.slack!.press({ message: pressed!, actionId: "gantry.rollback-to-last-good" }),
      ];
      expect(presses.map((response) => response.statusCode)).toEqual([200, 200]);
      expect((await sandbox.ledger.getRelease(arn, v2))?.override).toBeUndefined();
      await sandbox.settle();

      expect(await sandbox.ledger.getRelease(arn, v2)).toMatchObject({
        state: "deployed",
        override: { actor: "avery (Slack U0APPROVER)" },
      });
      const rollbacks = sandbox.appRunner.calls.filter(
        (call) => call.op === "UpdateService" && JSON.stringify(call.input).includes(`@${v2}`),
      );
      expect(rollbacks.filter((call) => !call.error)).toHaveLength(2); // v2's own deploy, then the rollback
      expect((await sandbox.ledger.getRelease(arn, v1))?.override).toBeUndefined();
      const acknowledged = sandbox.slack!.standIn.replies(pressed!).at(-1);
      expect(acknowledged?.text).toMatch(
        /avery \(Slack U0APPROVER\) pressed “Roll back to last good”: rolling back to sha256:/,
      );
      const notices = sandbox.slack!.standIn.messages.filter((message) => message.ephemeralTo);
      expect(notices.map((notice) => notice.text)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Could not roll back to last good: storefront has moved on since ${v3}: ${v2} was rolled back to by avery \\(Slack U0APPROVER\\) at \\S+; nothing was changed$`,
          ),
        ),
      ]);
      const [same] = threadOf(sandbox, v3);
      expect(buttons(same!)).toEqual(["Lift quarantine"]);
      const [target] = threadOf(sandbox, v2);
      expect(replies(sandbox, target!).slice(3)).toEqual(["Rolled back", "Deploying", "Deployment finished"]);
      expect(target!.text).toBe(`storefront: live (${short(v2)}…)`);
    } finally {
      await sandbox.stop();
    }
  });
});

describe("routing in the sandbox: the subscription's filter policy, then the channels", () => {
  it("an on-call watcher only sees failures; info never reaches a warning-only home", async () => {
    const sandbox = await Sandbox.start({
      dynamodbEndpoint: inject("dynamodbEndpoint"),
      slack: { channels: "deploys=warning,oncall=failure" },
    });
    try {
      sandbox.createService({ name: "storefront", image: "web:prod" });
      sandbox.appRunner.injectFault({
        service: "storefront",
        op: "UPDATE_SERVICE",
        outcome: "fail-rollback",
      });
      pushAndScan(sandbox, bad);
      await sandbox.settle();
      const subscription = sandbox.slack!.subscription;
      // allow and deploy are info: SNS never invokes the function for them.
      expect(subscription.deliveries.filter((delivery) => delivery.outcome === "filtered")).toHaveLength(2);
      const home = sandbox.slack!.standIn.roots("deploys");
      const oncall = sandbox.slack!.standIn.roots("oncall");
      expect(home).toHaveLength(1);
      expect(replies(sandbox, home[0]!)).toEqual(["Rolled back", "Quarantine"]);
      expect(oncall).toHaveLength(1);
      expect(replies(sandbox, oncall[0]!)).toEqual(["Rolled back"]);
    } finally {
      await sandbox.stop();
    }
  });

  it("a service outside the subscription's service list never reaches Slack", async () => {
    const sandbox = await Sandbox.start({
      dynamodbEndpoint: inject("dynamodbEndpoint"),
      slack: { services: ["payments"] },
    });
    try {
      sandbox.createService({ name: "storefront", image: "web:prod" });
      pushAndScan(sandbox, good);
      await sandbox.settle();
      expect(sandbox.sns.messages.length).toBeGreaterThan(0);
      expect(
        sandbox.slack!.subscription.deliveries.every((delivery) => delivery.outcome === "filtered"),
      ).toBe(true);
      expect(sandbox.slack!.standIn.messages).toEqual([]);
    } finally {
      await sandbox.stop();
    }
  });
});

describe("the replay contract", () => {
  it("`gantry replay --json` carries the Slack posts and edits as `slack` effects", async () => {
    const scenario = parseScenario({
      services: [
        {
          name: "storefront",
          image: "web:prod",
          tags: { "gantry:managed": "true" }, // scenario tags are taken as given
          faults: [{ op: "UPDATE_SERVICE", outcome: "fail-rollback" }],
        },
      ],
      images: [{ repository: "web", digest: bad, tags: ["prod"] }],
      events: [
        ecrImagePushEvent({
          account: ACCOUNT,
          region: "us-east-1",
          repositoryName: "web",
          digest: bad,
          tag: "prod",
          time: new Date("2026-11-02T09:00:00Z"),
        }),
        ecrImageScanEvent({
          account: ACCOUNT,
          region: "us-east-1",
          repositoryName: "web",
          digest: bad,
          tags: ["prod"],
          severityCounts: {},
          time: new Date("2026-11-02T09:00:00Z"),
        }),
      ],
    });
    const { effects, sandbox } = await replayScenario(scenario, {
      dynamodbEndpoint: inject("dynamodbEndpoint"),
    });
    await sandbox.stop();
    const slack = effects.filter((effect) => effect.type === "slack");
    const roots = new Set(slack.map((effect) => effect.thread));
    expect(roots.size).toBe(1);
    expect(slack.map((effect) => effect.action)).toEqual([
      "post",
      "reply",
      "reply",
      "reply",
      "update",
      "reply",
    ]);
    for (const effect of slack) {
      expect(effect).toMatchObject({
        channel: "deploys",
        thread: expect.stringMatching(/^\d+\.\d{6}$/),
        at: expect.any(String),
      });
      expect(typeof effect.text).toBe("string");
    }
    // Serialised like every other effect of the contract.
    expect(JSON.parse(JSON.stringify(slack[0]))).toMatchObject({ type: "slack", action: "post" });
  });
});
