/**
 * infra/slack.ts evaluated offline (the real sst.config.ts under Pulumi mocks, as test/infra does),
 * with Slack routing set the way a platform team would set it at deploy time.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { compileSnsFilterPolicy } from "@gantry/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const ACCOUNT = "123456789012";
const TOKEN = "xoxb-infra-test-NEVERINTHEENVIRONMENT";

interface Resource {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are arbitrary provider JSON.
  inputs: Record<string, any>;
}
interface Statement {
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

let workdir: string;
let resources: Resource[];
let outputs: Record<string, unknown>;
let invalid: { code: number; stderr: string };

async function check(stage: string, env: Record<string, string>) {
  const out = join(workdir, `${stage}.json`);
  await run(process.execPath, ["scripts/sst.mjs", "check", "--stage", stage, "--out", out], {
    cwd: root,
    env: { ...process.env, GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "", ...env },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
  });
  return JSON.parse(await readFile(out, "utf8")) as {
    errors: string[];
    resources: Resource[];
    outputs: Record<string, unknown>;
  };
}

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), "gantry-slack-infra-"));
  const [report, failed] = await Promise.all([
    check("slack", {
      GANTRY_SLACK_CHANNELS: "deploys=warning,oncall=failure",
      GANTRY_SLACK_APPROVERS: "U012AB3CD,W0456EF",
      GANTRY_SLACK_SERVICES: "payments,storefront",
      SST_SECRET_SlackBotToken: TOKEN,
    }),
    check("badslack", { GANTRY_SLACK_CHANNELS: "deploys=loud" }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    ),
  ]);
  expect(report.errors).toEqual([]);
  resources = report.resources;
  outputs = report.outputs;
  invalid = failed;
}, 180_000);
afterAll(() => (workdir ? rm(workdir, { recursive: true, force: true }) : undefined));

/** SST marks values that depend on a secret; the value itself is underneath. */
const plain = (value: unknown): unknown =>
  value && typeof value === "object" && "value" in value && Object.keys(value).length === 2
    ? (value as { value: unknown }).value
    : value;
const one = (type: string, name: string) => {
  const found = resources.filter((resource) => resource.type === type && resource.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0]!.inputs;
};
const list = (value: string | string[]) => [value].flat();
const statements = (role: string): Statement[] =>
  JSON.parse(one("aws:iam/role:Role", role).inlinePolicies[0].policy).Statement;
const queueArn = () =>
  `arn:aws:sqs:us-east-1:${ACCOUNT}:${one("aws:sqs/queue:Queue", "SlackDeadLettersQueue").name}`;
const topicArn = () =>
  `arn:aws:sns:us-east-1:${ACCOUNT}:${one("aws:sns/topic:Topic", "NotificationsTopic").name}`;

describe("Slack infra", () => {
  it("refuses a bad GANTRY_SLACK_CHANNELS at deploy time, saying why", () => {
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('"deploys=loud": the level must be one of info, warning, failure');
  });

  it("declares the three secrets, and never puts a secret's value in a function's environment", () => {
    for (const name of ["SlackWebhookUrl", "SlackBotToken", "SlackSigningSecret"]) {
      expect(
        resources.filter((resource) => resource.type === "sst:sst:Secret" && resource.name === name),
      ).toHaveLength(1);
    }
    const leaking = resources.filter(
      (resource) => resource.type.startsWith("aws:") && JSON.stringify(resource.inputs).includes(TOKEN),
    );
    expect(leaking.map((resource) => resource.name)).toEqual([]);
  });

  it("subscribes the notify function to the topic behind the filter policy, with a DLQ for SNS itself", () => {
    const notify = one("aws:lambda/function:Function", "SlackNotifyFunction");
    expect(notify).toMatchObject({
      handler: "functions/slack-notify.handler",
      runtime: "nodejs22.x",
      timeout: 60,
    });
    expect(notify.environment.variables).toMatchObject({
      GANTRY_SLACK_CHANNELS: "deploys=warning,oncall=failure",
      GANTRY_SLACK_APPROVERS: "U012AB3CD,W0456EF",
    });
    const subscription = one("aws:sns/topicSubscription:TopicSubscription", "SlackNotifySubscription");
    expect(subscription).toMatchObject({
      protocol: "lambda",
      topic: topicArn(),
      filterPolicyScope: "MessageAttributes",
    });
    expect(plain(subscription.endpoint)).toBe(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:${notify.name}`);
    expect(JSON.parse(subscription.filterPolicy)).toEqual({
      level: ["warning", "failure"],
      service: ["payments", "storefront"],
    });
    // What SNS would accept: the policy compiles under SNS's own rules.
    expect(() => compileSnsFilterPolicy(subscription.filterPolicy)).not.toThrow();
    expect(JSON.parse(subscription.redrivePolicy)).toEqual({ deadLetterTargetArn: queueArn() });
    expect(one("aws:lambda/permission:Permission", "SlackNotifyPermission")).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "sns.amazonaws.com",
      sourceArn: topicArn(),
    });
  });

  it("failed deliveries retry twice, then land in SlackDeadLetters (14 days, alarmed)", () => {
    const config = one(
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
      "SlackNotifyEventInvokeConfig",
    );
    expect(config).toMatchObject({
      maximumRetryAttempts: 2,
      destinationConfig: { onFailure: { destination: queueArn() } },
    });
    expect(one("aws:sqs/queue:Queue", "SlackDeadLettersQueue")).toMatchObject({
      messageRetentionSeconds: 14 * 24 * 60 * 60,
    });
    expect(one("aws:cloudwatch/metricAlarm:MetricAlarm", "SlackDeadLettersAlarm")).toMatchObject({
      metricName: "ApproximateNumberOfMessagesVisible",
      threshold: 0,
      dimensions: { QueueName: one("aws:sqs/queue:Queue", "SlackDeadLettersQueue").name },
    });
    const [statement, ...others] = JSON.parse(
      one("aws:sqs/queuePolicy:QueuePolicy", "SlackDeadLettersPolicy").policy,
    ).Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({
      Action: "sqs:SendMessage",
      Principal: { Service: "sns.amazonaws.com" },
      Condition: { ArnEquals: { "aws:SourceArn": topicArn() } },
    });
    expect(outputs.slackDeadLettersUrl).toMatch(/SlackDeadLettersQueue/);
  });

  it("the notify function may only read tags, use its thread records and reach its dead letters", () => {
    const actions = statements("SlackNotifyRole").flatMap((statement) => list(statement.Action));
    expect(actions.sort()).toEqual(
      [
        "apprunner:DescribeService",
        "apprunner:ListTagsForResource",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "sqs:SendMessage",
      ].sort(),
    );
    for (const statement of statements("SlackNotifyRole"))
      expect(list(statement.Resource)).not.toContain("*");
  });

  it("the interactivity function: a public function URL (Slack signs) that can only claim nonces and hand presses to the worker", () => {
    const fn = one("aws:lambda/function:Function", "SlackInteractivityFunction");
    const worker = one("aws:lambda/function:Function", "SlackInteractivityWorkerFunction");
    expect(plain(one("aws:lambda/functionUrl:FunctionUrl", "SlackInteractivityUrl").functionName)).toBe(
      fn.name,
    );
    expect(one("aws:lambda/functionUrl:FunctionUrl", "SlackInteractivityUrl").authorizationType).toBe("NONE");
    expect(one("aws:lambda/permission:Permission", "SlackInteractivityUrlAccess")).toMatchObject({
      action: "lambda:InvokeFunctionUrl",
      functionUrlAuthType: "NONE",
    });
    expect(one("aws:lambda/permission:Permission", "SlackInteractivityUrlInvoke")).toMatchObject({
      action: "lambda:InvokeFunction",
      invokedViaFunctionUrl: true,
    });
    expect(worker.name).toBe("gantry-slack-slack-worker");
    expect(fn.environment.variables.GANTRY_SLACK_WORKER_FUNCTION).toBe(worker.name);
    // Acknowledging within Slack's 3 s: the signature check claims a nonce, the press goes to the
    // worker. Nothing that deploys, publishes or reads a Slack token.
    const granted = statements("SlackInteractivityRole");
    expect(granted.flatMap((statement) => list(statement.Action)).sort()).toEqual([
      "dynamodb:PutItem",
      "lambda:InvokeFunction",
    ]);
    const invoke = granted.find((statement) => list(statement.Action).includes("lambda:InvokeFunction"));
    expect(list(invoke!.Resource)).toEqual([`arn:aws:lambda:us-east-1:${ACCOUNT}:function:${worker.name}`]);
    const leaking = resources.filter(
      (resource) =>
        resource.type === "aws:lambda/function:Function" &&
        resource.name === "SlackInteractivityFunction" &&
        JSON.stringify(resource.inputs).includes("SlackBotToken"),
    );
    expect(leaking).toEqual([]);
  });

  it("the worker applies presses with deploy-by-digest IAM, no `*` action, and an on-failure destination", () => {
    const worker = one("aws:lambda/function:Function", "SlackInteractivityWorkerFunction");
    expect(worker).toMatchObject({ handler: "functions/slack-interactivity-worker.handler", timeout: 60 });
    const granted = statements("SlackInteractivityWorkerRole");
    const actions = new Set(granted.flatMap((statement) => list(statement.Action)));
    for (const needed of [
      "apprunner:DescribeService",
      "apprunner:ListOperations",
      "apprunner:UpdateService",
      "iam:PassRole",
      "sns:Publish",
      "dynamodb:PutItem",
      "ecr:DescribeImageScanFindings",
      "scheduler:CreateSchedule",
      "sqs:SendMessage",
    ]) {
      expect(actions, needed).toContain(needed);
    }
    expect([...actions].filter((action) => action.includes("*"))).toEqual([]);
    for (const forbidden of [
      "apprunner:DeleteService",
      "apprunner:CreateService",
      "apprunner:ListServices",
    ]) {
      expect(actions, forbidden).not.toContain(forbidden);
    }
    const passRole = granted.filter((statement) => list(statement.Action).includes("iam:PassRole"));
    expect(passRole.every((statement) => statement.Condition)).toBe(true);
    const deadLetters = `arn:aws:sqs:us-east-1:${ACCOUNT}:${one("aws:sqs/queue:Queue", "DeadLettersQueue").name}`;
    const sqs = granted.filter((statement) => list(statement.Action).includes("sqs:SendMessage"));
    expect(sqs.flatMap((statement) => list(statement.Resource))).toEqual([deadLetters]);
    // A press Slack can no longer be told about (response_url lasts 30 minutes) is not applied late.
    expect(
      one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "SlackInteractivityWorkerEventInvokeConfig",
      ),
    ).toMatchObject({
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 30 * 60,
      destinationConfig: { onFailure: { destination: deadLetters } },
    });
  });
});
