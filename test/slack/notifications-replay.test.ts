/**
 * Slack down: the deploy goes on regardless, the Slack subscriber gives up after Lambda's retries
 * and its dead letters keep the messages; `gantry notifications replay` posts them once Slack is
 * back, and a second replay posts nothing twice.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ecrImagePushEvent, ecrImageScanEvent } from "@gantry/events";
import { Sandbox } from "@gantry/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { notificationsCommand } from "../../packages/cli/src/commands/notifications.ts";
import { capture, digest, pointCliAt } from "../e2e/scenario-helpers.ts";

const image = digest("web outage");
let sandbox: Sandbox;
let restore: () => void;
let dir: string;
let arn: string;

beforeAll(async () => {
  sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
  arn = sandbox.createService({ name: "storefront", image: "web:prod" });
  sandbox.slack!.standIn.injectFault({ status: 503, times: 1000 });
  const common = {
    account: "111122223333",
    region: "us-east-1",
    repositoryName: "web",
    digest: image,
    time: sandbox.clock.now(),
  };
  sandbox.putImage({ repository: "web", digest: image, tags: ["prod"] });
  sandbox.publish(ecrImagePushEvent({ ...common, tag: "prod" }));
  sandbox.publish(ecrImageScanEvent({ ...common, tags: ["prod"], severityCounts: {} }));
  await sandbox.settle();
  restore = pointCliAt(sandbox);
  const slack = sandbox.slack!.settings;
  Object.assign(process.env, {
    GANTRY_SLACK_BOT_TOKEN: slack.botToken,
    GANTRY_SLACK_API_URL: slack.apiUrl,
    GANTRY_SLACK_CHANNELS: "deploys",
  });
  dir = await mkdtemp(join(tmpdir(), "gantry-replay-"));
});
afterAll(async () => {
  restore?.();
  await sandbox.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("Slack outage, then gantry notifications replay", () => {
  it("the deploy did not wait for Slack; Lambda's retries are spent and the dead letters hold each message", async () => {
    expect((await sandbox.ledger.getRelease(arn, image))?.state).toBe("deployed");
    expect(sandbox.bus.deadLetters).toEqual([]);
    const subscription = sandbox.slack!.subscription;
    expect(subscription.deadLetters.map((record) => record.requestContext.approximateInvokeCount)).toEqual([
      3, 3, 3,
    ]);
    expect(subscription.deadLetters.map((record) => record.responsePayload.errorType)).toEqual([
      "SlackServerError",
      "SlackServerError",
      "SlackServerError",
    ]);
    expect(sandbox.slack!.standIn.messages).toEqual([]);
  });

  it("replays them from an `aws sqs receive-message` export once Slack is back; a second replay posts nothing", async () => {
    sandbox.slack!.standIn.clearFaults();
    const file = join(dir, "dead-letters.json");
    const messages = sandbox.slack!.subscription.deadLetters.map((record, index) => ({
      MessageId: `m-${index}`,
      ReceiptHandle: `r-${index}`,
      Body: JSON.stringify(record),
    }));
    await writeFile(file, JSON.stringify({ Messages: messages }));

    const first = capture();
    expect(await notificationsCommand(["replay", "--file", file], first.io)).toBe(0);
    expect(first.err).toEqual([]);
    expect(first.out.at(-1)).toBe("3 delivered or already there, 0 failed");
    const [root, ...more] = sandbox.slack!.standIn.roots("deploys");
    expect(more).toEqual([]);
    expect(root!.text).toContain("storefront: live");
    expect(sandbox.slack!.standIn.replies(root!)).toHaveLength(3);

    const posted = sandbox.slack!.standIn.messages.length;
    const second = capture();
    expect(await notificationsCommand(["replay", "--file", file], second.io)).toBe(0);
    expect(second.out.filter((line) => line.includes("already posted, skipped"))).toHaveLength(3);
    expect(sandbox.slack!.standIn.messages).toHaveLength(posted);
  });

  it("a dry run posts nothing; a bad record is named and fails the command, the others still go", async () => {
    const dry = capture();
    const notification = JSON.parse(
      sandbox.slack!.subscription.deadLetters[0]!.requestPayload.Records[0]!.Sns.Message,
    ) as Record<string, unknown>;
    const file = join(dir, "mixed.jsonl");
    await writeFile(
      file,
      [JSON.stringify(notification), JSON.stringify({ ...notification, schemaVersion: 7 })].join("\n"),
    );
    const before = sandbox.slack!.standIn.messages.length;
    // A dry run checks every record too: the bad one already fails it.
    expect(await notificationsCommand(["replay", "--file", file, "--dry-run"], dry.io)).toBe(1);
    expect(dry.out.filter((line) => line.startsWith("  would deliver"))).toHaveLength(1);
    expect(sandbox.slack!.standIn.messages).toHaveLength(before);

    const mixed = capture();
    expect(await notificationsCommand(["replay", "--file", file], mixed.io)).toBe(1);
    expect(mixed.out).toContain(
      `  ✓ allow storefront ${image.slice(0, 19)}… → #deploys: already posted, skipped`,
    );
    expect(sandbox.slack!.standIn.messages).toHaveLength(before);
    expect(mixed.err).toEqual([expect.stringMatching(/line 2.*schema version 7 is not supported/)]);
    expect(await notificationsCommand(["replay"], capture().io)).toBe(2);
  });
});
