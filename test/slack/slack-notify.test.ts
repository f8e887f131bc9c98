/**
 * The `slack-notify` handler as deployed (middy stack, thread store, transport), against DynamoDB
 * Local and the Slack stand-in. Each "cold start" builds a new handler with new clients over the
 * same ledger table, as a new Lambda container would.
 */
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createLedgerTable, DynamoDbLedger } from "@gantry/aws";
import {
  type Notification,
  parseGantryConfig,
  type Release,
  type SlackBlock,
  SlackThreadBusyError,
} from "@gantry/core";
import { LocalSlack, localCredentials, snsLambdaEvent } from "@gantry/local";
import {
  buildAppContext,
  buildSlackContext,
  classifyError,
  createSlackHandlers,
  localLambdaContext,
  parseRuntimeConfig,
  parseSlackConfig,
} from "@gantry/runtime";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";

const table = `slack-notify-${randomUUID()}`;
const runtime = parseRuntimeConfig({
  AWS_REGION: "us-east-1",
  GANTRY_LEDGER_TABLE: table,
  GANTRY_IDEMPOTENCY_TABLE: "unused-here",
  GANTRY_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:gantry-notifications",
  GANTRY_DYNAMODB_ENDPOINT: inject("dynamodbEndpoint"),
});
const client = new DynamoDBClient({
  endpoint: inject("dynamodbEndpoint"),
  region: "us-east-1",
  credentials: localCredentials,
});
const ledger = new DynamoDbLedger(client, table);
const clock = { now: () => new Date("2026-11-02T09:10:00Z") };
let slack: LocalSlack;
let apiUrl: string;

beforeAll(async () => {
  await createLedgerTable(client, table);
  slack = new LocalSlack({ clock });
  ({ apiUrl } = await slack.start());
});
afterAll(async () => {
  await slack.stop();
  client.destroy();
});

interface Start {
  channels?: string;
  transport?: "bot" | "webhook";
  tags?: Record<string, string>;
  fetch?: typeof fetch;
}

/** A new container: new clients, new caches, nothing in memory from the last one. */
function coldStart(options: Start = {}) {
  const app = buildAppContext(runtime, parseGantryConfig({}), { clock, credentials: localCredentials });
  const config = parseSlackConfig(
    { GANTRY_SLACK_CHANNELS: options.channels ?? "deploys", GANTRY_SLACK_API_URL: apiUrl },
    (name) =>
      name === "SlackBotToken" && (options.transport ?? "bot") === "bot"
        ? slack.botToken
        : name === "SlackWebhookUrl" && options.transport === "webhook"
          ? slack.webhookUrl
          : undefined,
  );
  const context = buildSlackContext(app, runtime, config, {
    credentials: localCredentials,
    sleep: async () => undefined,
    http: { sleep: async () => undefined, ...(options.fetch ? { fetch: options.fetch } : {}) },
    channelTagOf: async (arn) => options.tags?.[arn],
  });
  const handlers = createSlackHandlers(() => context);
  return (event: unknown) => handlers.notify(event, localLambdaContext("slack-notify") as never);
}

const arnOf = (service: string) =>
  `arn:aws:apprunner:us-east-1:111122223333:service/${service}/${"0".repeat(32)}`;
const digestOf = (name: string) => `sha256:${Buffer.from(name.padEnd(32, ".")).toString("hex")}`;

function release(
  service: string,
  digest: string,
  state: Release["state"],
  extra: Partial<Release> = {},
): Release {
  return {
    serviceArn: arnOf(service),
    serviceName: service,
    digest,
    registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com",
    repository: "api",
    tags: ["prod"],
    policyName: "strict",
    policyVersion: "abcd1234",
    state,
    pushedAt: "2026-11-02T09:00:00.000Z",
    version: 1,
    ...extra,
  };
}

async function moveTo(next: Release): Promise<void> {
  const current = await ledger.getRelease(next.serviceArn, next.digest);
  if (!current) await ledger.commit([{ kind: "put-release", release: next }]);
  else {
    await ledger.commit([
      {
        kind: "update-release",
        release: { ...next, version: current.version + 1 },
        expectedVersion: current.version,
      },
    ]);
  }
}

function snsEvent(notification: Notification, messageId: string = randomUUID()) {
  return snsLambdaEvent(
    {
      messageId,
      topicArn: runtime.topicArn,
      message: JSON.stringify(notification),
      attributes: {
        kind: { dataType: "String", value: notification.kind },
        level: { dataType: "String", value: notification.level },
      },
    },
    "arn:aws:sns:us-east-1:111122223333:gantry-notifications:sub",
    clock.now(),
  );
}

function notice(
  r: Release,
  kind: Notification["kind"],
  level: Notification["level"],
  message: string,
): Notification {
  return {
    schemaVersion: 1,
    kind,
    level,
    service: r.serviceName,
    serviceArn: r.serviceArn,
    digest: r.digest,
    releaseId: `${r.serviceName}@${r.digest}`,
    reasons: [],
    message,
    at: clock.now().toISOString(),
  };
}

const threadOf = (channel: string, service: string) =>
  slack.roots(channel).filter((root) => root.text.startsWith(`${service}:`));
const buttons = (blocks: SlackBlock[]) =>
  blocks.flatMap((block) =>
    block.type === "actions" ? block.elements.map((button) => button.text.text) : [],
  );

beforeEach(() => {
  slack.requests.length = 0;
});

describe("one thread per release: created, replied to, headline edited, across cold starts", () => {
  it("block → (cold start) approve → (cold start) deploy: one root, three replies, the headline follows", async () => {
    const blocked = release("payments", digestOf("payments v7"), "blocked", {
      decision: {
        verdict: "block",
        mode: "enforce",
        violations: ["1 HIGH finding (allowed: 0)"],
        notes: [],
        decidedAt: "2026-11-02T09:01:00.000Z",
      },
    });
    await moveTo(blocked);
    const first = await coldStart()(
      snsEvent({
        ...notice(blocked, "block", "warning", "blocked by policy strict"),
        reasons: ["1 HIGH finding (allowed: 0)"],
      }),
    );
    expect(first).toMatchObject({ deliveries: [{ action: "post" }, { action: "reply" }] });
    const [root] = threadOf("deploys", "payments");
    expect(root?.text).toContain("payments: blocked");
    expect(buttons(root!.blocks)).toEqual(["Approve once", "Keep blocked"]);

    const approved = {
      ...blocked,
      state: "waiting" as const,
      override: {
        actor: "avery (Slack U0APPROVER)",
        reason: "approved once in Slack",
        at: "2026-11-02T09:05:00.000Z",
      },
    };
    await moveTo(approved);
    const second = await coldStart()(
      snsEvent(notice(approved, "approve", "warning", "override: avery approved a blocked release")),
    );
    expect(second).toMatchObject({ deliveries: [{ action: "reply" }, { action: "update" }] });

    await moveTo({
      ...approved,
      state: "deploying",
      operationId: "op-1234-5678",
      deployStartedAt: "2026-11-02T09:06:00.000Z",
    });
    await coldStart()(snsEvent(notice(approved, "deploy", "info", "UpdateService to …/api@sha256:…")));

    const thread = threadOf("deploys", "payments");
    expect(thread).toHaveLength(1);
    expect(slack.replies(thread[0]!).map((reply) => reply.text)).toEqual([
      "payments: Blocked: blocked by policy strict",
      "payments: Approved by a person: override: avery approved a blocked release",
      "payments: Deploying: UpdateService to …/api@sha256:…",
    ]);
    expect(thread[0]!.edits.map((edit) => edit.text.split(" (")[0])).toEqual([
      "payments: blocked",
      "payments: approved, waiting to deploy",
    ]);
    expect(thread[0]!.text).toContain("payments: deploying");
    expect(buttons(thread[0]!.blocks)).toEqual([]);
    expect(JSON.stringify(thread[0]!.blocks)).toContain("Approved by* avery (Slack U0APPROVER)");
  });
});

describe("de-duplication", () => {
  it("a notification delivered twice is posted once, whichever container gets it (or a republish of it)", async () => {
    const r = release("storefront", digestOf("web v2"), "deployed", {
      deployEndedAt: "2026-11-02T09:09:00.000Z",
    });
    await moveTo(r);
    const event = snsEvent(notice(r, "outcome", "info", "release is live"), "message-1");
    await coldStart()(event);
    expect(await coldStart()(event)).toMatchObject({ deliveries: [{ action: "duplicate" }] });
    // Published again with a new SNS MessageId: same message, still posted once.
    const republished = snsEvent(notice(r, "outcome", "info", "release is live"), "message-2");
    expect(await coldStart()(republished)).toMatchObject({ deliveries: [{ action: "duplicate" }] });
    const [root] = threadOf("deploys", "storefront");
    expect(slack.replies(root!)).toHaveLength(1);
    expect(root!.edits).toEqual([]);
  });

  it("two containers racing on one message: one posts; the other retries and finds it posted", async () => {
    const r = release("search", digestOf("search v1"), "blocked");
    await moveTo(r);
    const event = snsEvent(notice(r, "block", "warning", "blocked"));
    const results = await Promise.allSettled([coldStart()(event), coldStart()(event)]);
    const rejected = results.filter((result) => result.status === "rejected");
    for (const result of rejected) {
      expect(result.reason).toBeInstanceOf(SlackThreadBusyError);
      expect(classifyError(result.reason).kind).toBe("retry");
    }
    // Lambda's retry of whichever lost.
    await coldStart()(event);
    const [root, ...others] = threadOf("deploys", "search");
    expect(others).toEqual([]);
    expect(slack.replies(root!)).toHaveLength(1);
  });

  it("a Slack failure mid-way is resumed by the retry: the root is reused, the reply posted once", async () => {
    const r = release("billing", digestOf("billing v3"), "blocked");
    await moveTo(r);
    let calls = 0;
    // The second call (the reply) dies on the network: the root was posted, the reply not.
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 2)
        throw new TypeError("fetch failed", {
          cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }),
        });
      return fetch(input, init);
    };
    const event = snsEvent(notice(r, "block", "warning", "blocked"));
    const error = await coldStart({ fetch: flaky })(event).catch((caught: unknown) => caught);
    expect(classifyError(error).kind).toBe("retry");
    expect(threadOf("deploys", "billing")).toHaveLength(1);
    expect(slack.replies(threadOf("deploys", "billing")[0]!)).toHaveLength(0);

    await coldStart()(event);
    await coldStart()(event);
    const thread = threadOf("deploys", "billing");
    expect(thread).toHaveLength(1);
    expect(slack.replies(thread[0]!)).toHaveLength(1);
  });
});

describe("routing", () => {
  it("the service's gantry:channel replaces home; an on-call watcher only gets failures", async () => {
    const r = release("ledger-api", digestOf("ledger v9"), "deploying");
    await moveTo(r);
    const notify = coldStart({ channels: "deploys,oncall=failure", tags: { [r.serviceArn]: "team-ledger" } });
    await notify(snsEvent(notice(r, "deploy", "info", "UpdateService")));
    await moveTo({ ...r, state: "failed" });
    await notify(snsEvent(notice(r, "giveup", "failure", "gave up after 3 attempts")));
    expect(threadOf("deploys", "ledger-api")).toEqual([]);
    expect(slack.replies(threadOf("team-ledger", "ledger-api")[0]!).map((reply) => reply.text)).toEqual([
      "ledger-api: Deploying: UpdateService",
      "ledger-api: Gave up: gave up after 3 attempts",
    ]);
    const oncall = threadOf("oncall", "ledger-api");
    expect(oncall).toHaveLength(1);
    expect(oncall[0]!.text).toContain("deployment failed");
    expect(slack.replies(oncall[0]!).map((reply) => reply.text)).toEqual([
      "ledger-api: Gave up: gave up after 3 attempts",
    ]);
  });

  it("a notice about no release is a message of its own; with Slack unset, nothing is posted", async () => {
    const drift: Notification = {
      schemaVersion: 1,
      kind: "drift",
      level: "warning",
      service: "orders",
      reasons: ["App Runner auto-deploy is on"],
      message: "auto-deploy will be switched off",
      at: clock.now().toISOString(),
    };
    expect(await coldStart({ channels: "drifts" })(snsEvent(drift))).toMatchObject({
      deliveries: [{ action: "post", channel: "drifts" }],
    });
    expect(slack.roots("drifts").map((root) => root.text)).toEqual([
      "orders: Configuration drift: auto-deploy will be switched off",
    ]);

    const before = slack.messages.length;
    const app = buildAppContext(runtime, parseGantryConfig({}), { clock, credentials: localCredentials });
    const off = createSlackHandlers(() =>
      buildSlackContext(
        app,
        runtime,
        parseSlackConfig({}, () => undefined),
      ),
    );
    expect(await off.notify(snsEvent(drift), localLambdaContext("slack-notify") as never)).toEqual({
      deliveries: [],
    });
    expect(slack.messages).toHaveLength(before);
  });
});

describe("incoming webhook transport", () => {
  it("posts each notification once as its own message, with the release's buttons", async () => {
    const r = release("inventory", digestOf("inventory v4"), "blocked");
    await moveTo(r);
    const event = snsEvent(notice(r, "block", "warning", "blocked by policy strict"));
    const notify = coldStart({ transport: "webhook" });
    await notify(event);
    await notify(event);
    const posts = slack.roots("deploys").filter((root) => root.text.startsWith("inventory:"));
    expect(posts).toHaveLength(1);
    expect(posts[0]?.via).toBe("webhook");
    expect(buttons(posts[0]!.blocks)).toEqual(["Approve once", "Keep blocked"]);
    expect(slack.requests.filter((request) => request.method === "chat.update")).toEqual([]);
  });
});
