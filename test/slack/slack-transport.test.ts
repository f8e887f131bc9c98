/**
 * The Slack transports against the local stand-in over real HTTP: rate limits, outages and
 * refusals, with a fake sleeper so nothing really waits.
 */
import {
  SlackApiError,
  SlackRateLimitedError,
  SlackServerError,
  SlackWebApiTransport,
  SlackWebhookTransport,
} from "@gantry/aws";
import type { SlackMessage } from "@gantry/core";
import { LocalSlack } from "@gantry/local";
import { classifyError } from "@gantry/runtime";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const message: SlackMessage = {
  text: "hello",
  blocks: [{ type: "section", text: { type: "mrkdwn", text: "hello" } }],
};

let slack: LocalSlack;
let apiUrl: string;
let slept: number[];
const sleep = async (ms: number) => void slept.push(ms);

beforeEach(async () => {
  slack = new LocalSlack({ clock: { now: () => new Date("2026-11-02T09:00:00Z") } });
  ({ apiUrl } = await slack.start());
  slept = [];
});
afterEach(() => slack.stop());

const bot = (options: ConstructorParameters<typeof SlackWebApiTransport>[1] = {}) =>
  new SlackWebApiTransport(slack.botToken, { apiUrl, sleep, random: () => 0, ...options });

describe("Web API transport", () => {
  it("honours 429 Retry-After: waits exactly that long, then posts once", async () => {
    slack.injectFault({ method: "chat.postMessage", status: 429, retryAfterSeconds: 7 });
    const posted = await bot().post({ channel: "deploys", message });
    expect(slept).toEqual([7000]);
    expect(slack.requests).toEqual([
      { method: "chat.postMessage", status: 429 },
      { method: "chat.postMessage", status: 200 },
    ]);
    expect(slack.roots("deploys").map((root) => root.ts)).toEqual([posted.ts]);
  });

  it("gives a 429 back to the platform when Retry-After is beyond its wait budget, without waiting", async () => {
    slack.injectFault({ method: "chat.postMessage", status: 429, retryAfterSeconds: 120 });
    const error = await bot()
      .post({ channel: "deploys", message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SlackRateLimitedError);
    expect((error as SlackRateLimitedError).retryAfterMs).toBe(120_000);
    expect(slept).toEqual([]);
    expect(classifyError(error)).toMatchObject({ kind: "retry" });
    expect(slack.messages).toEqual([]);
  });

  it("retries 5xx with growing backoff, then succeeds", async () => {
    slack.injectFault({ method: "chat.postMessage", status: 503, times: 2 });
    await bot({ random: () => 0.5 }).post({ channel: "deploys", message });
    // Equal jitter on 500 ms, 1 s: half the step plus half of the random share.
    expect(slept).toEqual([375, 750]);
    expect(slack.messages).toHaveLength(1);
  });

  it("after its attempts, a 5xx is a retriable error for Lambda (and on to the dead letters)", async () => {
    slack.injectFault({ status: 500, times: 10 });
    const error = await bot({ maxAttempts: 3 })
      .post({ channel: "deploys", message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SlackServerError);
    expect(slept).toEqual([250, 500]);
    expect(slack.requests.map((request) => request.status)).toEqual([500, 500, 500]);
    expect(classifyError(error).kind).toBe("retry");
  });

  it("a request Slack refuses is not retried, and fails (the dead letters keep it)", async () => {
    const wrongToken = new SlackWebApiTransport("xoxb-wrong-token-SECRET", { apiUrl, sleep });
    const error = await wrongToken.post({ channel: "deploys", message }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SlackApiError);
    expect((error as SlackApiError).code).toBe("invalid_auth");
    expect(String((error as Error).message)).not.toContain("SECRET");
    expect(classifyError(error).kind).toBe("fail");

    const tooBig: SlackMessage = {
      text: "x",
      blocks: [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }],
    };
    await expect(bot().post({ channel: "deploys", message: tooBig })).rejects.toMatchObject({
      code: "invalid_blocks",
    });
    expect(slack.requests).toHaveLength(2);
  });

  it("threads replies and edits the root in place", async () => {
    const transport = bot();
    const root = await transport.post({ channel: "deploys", message });
    await transport.post({
      channel: root.channelId,
      message: { ...message, text: "reply" },
      threadTs: root.ts as string,
    });
    await transport.update({
      channelId: root.channelId,
      ts: root.ts as string,
      message: { ...message, text: "edited" },
    });
    const [thread] = slack.roots("deploys");
    expect(thread?.text).toBe("edited");
    expect(thread?.edits.map((edit) => edit.text)).toEqual(["hello"]);
    expect(slack.replies(thread!).map((reply) => reply.text)).toEqual(["reply"]);
    await expect(transport.post({ channel: "deploys", message, threadTs: "1.000009" })).rejects.toMatchObject(
      { code: "thread_not_found" },
    );
  });

  it("answers interactions only on Slack's response origins", async () => {
    await expect(
      bot().respond("https://evil.example/actions/1", { ...message, ephemeral: true }),
    ).rejects.toMatchObject({
      code: "foreign_origin",
    });
    expect(slack.requests).toEqual([]);
  });
});

describe("incoming webhook transport", () => {
  it("posts standalone messages, cannot edit, and keeps its URL out of errors", async () => {
    const webhook = new SlackWebhookTransport(slack.webhookUrl, { sleep });
    expect(webhook.mode).toBe("webhook");
    await webhook.post({ channel: "webhook", message });
    expect(slack.roots("deploys")).toHaveLength(1);
    await expect(webhook.update()).rejects.toThrow(/cannot edit/);

    const wrong = new SlackWebhookTransport(
      slack.webhookUrl.replace("sandboxwebhooksecret", "revokedSECRET"),
      { sleep },
    );
    const error = await wrong.post({ channel: "webhook", message }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "SlackApiError", code: "no_service", status: 404 });
    expect(String((error as Error).message)).not.toContain("SECRET");
  });

  it("waits out a 429 like the Web API does", async () => {
    slack.injectFault({ method: "webhook", status: 429, retryAfterSeconds: 2 });
    await new SlackWebhookTransport(slack.webhookUrl, { sleep }).post({ channel: "webhook", message });
    expect(slept).toEqual([2000]);
    expect(slack.messages).toHaveLength(1);
  });
});
