/**
 * Evaluates the real `sst.config.ts` offline (`node scripts/sst.mjs check`: SST's components under
 * Pulumi mocks, with a fake SST RPC server so that Lambda functions register too) and checks what
 * would be deployed. Expectations are written out here, not imported from `infra/`, so that a
 * change to the infra has to be a deliberate change to this file too.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gantryRules } from "../../packages/events/src/rules.ts";

const root = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

interface Resource {
  type: string;
  name: string;
  parent: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are arbitrary provider JSON.
  inputs: Record<string, any>;
}

interface Report {
  app: { name: string; stage: string };
  timings: { installMs: number; bundleMs: number; evaluateMs: number; totalMs: number };
  errors: string[];
  outputs: Record<string, unknown>;
  handlers: { functionID: string; handler: string; source: string | null }[];
  resources: Resource[];
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const SERVICES = `arn:aws:apprunner:${REGION}:${ACCOUNT}:service/*`;
const CONSOLE_ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AppRunnerECRAccessRole`;
const CONFIGURED_ACCESS_ROLES = [
  `arn:aws:iam::${ACCOUNT}:role/gantry/pull-team-a`,
  `arn:aws:iam::${ACCOUNT}:role/gantry/pull-team-b`,
];

/** Logical name of each function (SST prefixes its role, code and log group with it). */
const FUNCTIONS = {
  "image-push": "ImagePush",
  "image-scan": "ImageScan",
  "apprunner-event": "AppRunnerEvent",
  reconcile: "Reconcile",
} as const;
type FunctionKey = keyof typeof FUNCTIONS;

/** Control-plane actions per function: the brief, plus what the calls need in IAM. */
const CONTROL_ACTIONS: Record<FunctionKey, string[]> = {
  "image-push": ["apprunner:ListServices", "apprunner:DescribeService", "apprunner:ListTagsForResource"],
  "image-scan": [
    "apprunner:ListServices",
    "apprunner:DescribeService",
    "apprunner:ListTagsForResource",
    "apprunner:UpdateService",
    "iam:PassRole",
    "ecr:DescribeImages",
    "ecr:DescribeImageScanFindings",
    "inspector2:ListFindings",
  ],
  "apprunner-event": [
    "apprunner:ListOperations",
    "apprunner:DescribeService",
    "apprunner:ListTagsForResource",
    "apprunner:UpdateService",
    "apprunner:StartDeployment",
    "apprunner:ResumeService",
    "apprunner:DeleteService",
    "apprunner:CreateService",
    "apprunner:TagResource",
    "iam:PassRole",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
  ],
  reconcile: [
    "apprunner:ListServices",
    "apprunner:DescribeService",
    "apprunner:ListTagsForResource",
    "apprunner:ListOperations",
    "apprunner:UpdateService",
    "iam:PassRole",
    "ecr:DescribeImages",
    "ecr:DescribeImageScanFindings",
    "inspector2:ListFindings",
  ],
};

/** Every function: ledger, idempotency records, notifications, its own failures. */
const DATA_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:ConditionCheckItem",
  "sns:Publish",
  "sqs:SendMessage",
];

/** The only actions IAM cannot scope to a resource. */
const UNSCOPABLE = ["apprunner:ListServices", "inspector2:ListFindings"];

const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

let workdir: string;

async function check(stage: string, env: Record<string, string> = {}) {
  const out = join(workdir, `${stage}.json`);
  const started = performance.now();
  const result = await run(process.execPath, ["scripts/sst.mjs", "check", "--stage", stage, "--out", out], {
    cwd: root,
    env: { ...process.env, GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "", ...env },
    maxBuffer: 16 * 1024 * 1024,
    // A hung check is killed rather than left behind when the hook times out.
    timeout: 120_000,
  });
  const report = JSON.parse(await readFile(out, "utf8")) as Report;
  return { report, stderr: result.stderr, wallMs: performance.now() - started };
}

function inspect(report: Report) {
  const all = (type: string) => report.resources.filter((resource) => resource.type === type);
  const one = (type: string, name: string) => {
    const found = report.resources.filter((resource) => resource.type === type && resource.name === name);
    expect(found, `${type} ${name}`).toHaveLength(1);
    return found[0]!.inputs;
  };
  const arnOf = (type: string, name: string, arn: (physical: string) => string) => arn(one(type, name).name);
  const fn = (key: FunctionKey) => one("aws:lambda/function:Function", `${FUNCTIONS[key]}Function`);
  const fnArn = (key: FunctionKey) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn(key).name}`;
  const queueArn = arnOf(
    "aws:sqs/queue:Queue",
    "DeadLettersQueue",
    (name) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  );
  const topicArn = (name: string) =>
    arnOf(
      "aws:sns/topic:Topic",
      `${name}Topic`,
      (physical) => `arn:aws:sns:${REGION}:${ACCOUNT}:${physical}`,
    );
  const ruleArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;
  const statements = (key: FunctionKey): Statement[] => {
    const role = one("aws:iam/role:Role", `${FUNCTIONS[key]}Role`);
    expect(role.inlinePolicies).toHaveLength(1);
    return JSON.parse(role.inlinePolicies[0].policy).Statement;
  };
  return { all, one, fn, fnArn, queueArn, topicArn, ruleArn, statements };
}

let production: Awaited<ReturnType<typeof check>>;
let dev: Awaited<ReturnType<typeof check>>;
let invalid: { code: number; stderr: string };

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), "gantry-infra-test-"));
  [production, dev, invalid] = await Promise.all([
    check("production"),
    check("dev", { GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: CONFIGURED_ACCESS_ROLES.join(", ") }),
    check("invalid", { GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "AppRunnerECRAccessRole" }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    ),
  ]);
  console.info(
    `sst check (production): ${production.report.resources.length} resources, ` +
      `${production.report.timings.totalMs} ms in the script, ${Math.round(production.wallMs)} ms wall ` +
      `(three checks in parallel)`,
  );
}, 180_000);

afterAll(async () => {
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

describe("sst check", () => {
  it("evaluates the real config without errors, within the time budget", () => {
    expect(production.report.errors).toEqual([]);
    expect(dev.report.errors).toEqual([]);
    expect(production.report.app).toMatchObject({ name: "gantry", stage: "production" });
    expect(production.report.timings.totalMs).toBeLessThan(60_000);
  });

  it("registers the Lambda functions inside sst.aws.Function (through the fake RPC server)", () => {
    const { all } = inspect(production.report);
    expect(sorted(all("aws:lambda/function:Function").map((resource) => resource.name))).toEqual(
      sorted(Object.values(FUNCTIONS).map((name) => `${name}Function`)),
    );
  });

  it("rejects an access role that is not an IAM role ARN, naming the variable", () => {
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain(
      'GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "AppRunnerECRAccessRole" is not an IAM role ARN',
    );
  });
});

describe("event rules", () => {
  it("has exactly one pattern rule per gantryRules entry, on the default bus, with its pattern", () => {
    const { all } = inspect(production.report);
    const patternRules = all("aws:cloudwatch/eventRule:EventRule").filter((rule) => rule.inputs.eventPattern);
    expect(patternRules).toHaveLength(gantryRules.length);
    for (const rule of gantryRules) {
      const found = patternRules.filter(
        (candidate) => candidate.inputs.name === `gantry-production-${rule.name}`,
      );
      expect(found, rule.name).toHaveLength(1);
      expect(found[0]!.inputs.eventBusName).toBe("default");
      expect(JSON.parse(found[0]!.inputs.eventPattern)).toEqual(rule.pattern);
    }
  });

  it("targets the function each rule names, with retries and the dead-letter queue", () => {
    const { all, fnArn, queueArn } = inspect(production.report);
    const targets = all("aws:cloudwatch/eventTarget:EventTarget");
    for (const rule of gantryRules) {
      const found = targets.filter((target) => target.inputs.rule === `gantry-production-${rule.name}`);
      expect(found, rule.name).toHaveLength(1);
      expect(found[0]!.inputs).toMatchObject({
        arn: fnArn(rule.target),
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
        deadLetterConfig: { arn: queueArn },
      });
    }
  });

  it("lets EventBridge invoke each target only from its own rule", () => {
    const { all, fn, ruleArn } = inspect(production.report);
    const permissions = all("aws:lambda/permission:Permission");
    for (const rule of gantryRules) {
      const sourceArn = ruleArn(`gantry-production-${rule.name}`);
      const found = permissions.filter((permission) => permission.inputs.sourceArn === sourceArn);
      expect(found, rule.name).toHaveLength(1);
      expect(found[0]!.inputs).toEqual({
        action: "lambda:InvokeFunction",
        function: fn(rule.target).name,
        principal: "events.amazonaws.com",
        sourceArn,
      });
    }
  });

  it("runs the reconciler every five minutes with the same delivery guarantees", () => {
    const { one, fnArn, queueArn, ruleArn } = inspect(production.report);
    const rule = one("aws:cloudwatch/eventRule:EventRule", "ReconcilerRule");
    expect(rule).toMatchObject({ scheduleExpression: "rate(5 minutes)", state: "ENABLED" });
    const target = one("aws:cloudwatch/eventTarget:EventTarget", "ReconcilerTarget");
    expect(target).toMatchObject({
      rule: rule.name,
      arn: fnArn("reconcile"),
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
      deadLetterConfig: { arn: queueArn },
    });
    // The whole Scheduled Event (id, time) is delivered, not Cron's constant `{}`.
    expect(target.input).toBeUndefined();
    // SST's Cron names the function by ARN, Gantry's rules by name: both identify it.
    expect(one("aws:lambda/permission:Permission", "ReconcilerPermission")).toMatchObject({
      function: fnArn("reconcile"),
      principal: "events.amazonaws.com",
      sourceArn: ruleArn(rule.name),
    });
  });

  it("lets events.amazonaws.com write to DeadLetters only from Gantry's rules", () => {
    const { one, queueArn, ruleArn } = inspect(production.report);
    const policy = one("aws:sqs/queuePolicy:QueuePolicy", "DeadLettersPolicy");
    expect(policy.queueUrl).toBe(production.report.outputs.deadLettersUrl);
    const [statement, ...others] = JSON.parse(policy.policy).Statement as Statement[];
    expect(others).toEqual([]);
    expect(statement).toMatchObject({
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Principal: { Service: "events.amazonaws.com" },
    });
    const reconcilerRule = one("aws:cloudwatch/eventRule:EventRule", "ReconcilerRule").name;
    expect(sorted(list(statement!.Condition?.ArnEquals?.["aws:SourceArn"]))).toEqual(
      sorted([
        ...gantryRules.map((rule) => ruleArn(`gantry-production-${rule.name}`)),
        ruleArn(reconcilerRule),
      ]),
    );
  });
});

describe("functions", () => {
  it.each(Object.keys(FUNCTIONS) as FunctionKey[])("%s: runtime, handler, size and environment", (key) => {
    const { one, fn, topicArn } = inspect(production.report);
    const handler = production.report.handlers.find((entry) => entry.functionID === FUNCTIONS[key]);
    expect(handler).toEqual({
      functionID: FUNCTIONS[key],
      handler: `functions/${key}.handler`,
      source: `functions/${key}.ts`,
      runtime: "nodejs22.x",
    });
    expect(fn(key)).toMatchObject({
      handler: `functions/${key}.handler`,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 512,
      timeout: 60,
      loggingConfig: { logFormat: "JSON" },
    });
    expect(fn(key).environment.variables).toMatchObject({
      GANTRY_LEDGER_TABLE: one("aws:dynamodb/table:Table", "LedgerTable").name,
      GANTRY_IDEMPOTENCY_TABLE: one("aws:dynamodb/table:Table", "IdempotencyTable").name,
      GANTRY_TOPIC_ARN: topicArn("Notifications"),
      GANTRY_STAGE: "production",
      POWERTOOLS_SERVICE_NAME: "gantry",
      POWERTOOLS_METRICS_NAMESPACE: "Gantry",
    });
  });

  it.each(Object.keys(FUNCTIONS) as FunctionKey[])(
    "%s: async failures retry twice, then DeadLetters",
    (key) => {
      const { one, fn, queueArn } = inspect(production.report);
      expect(
        one(
          "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
          `${FUNCTIONS[key]}EventInvokeConfig`,
        ),
      ).toEqual({
        functionName: fn(key).name,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 6 * 60 * 60,
        destinationConfig: { onFailure: { destination: queueArn } },
      });
    },
  );
});

describe("IAM", () => {
  it.each(Object.keys(FUNCTIONS) as FunctionKey[])("%s: exactly its actions, none of them `*`", (key) => {
    const { statements } = inspect(production.report);
    const actions = statements(key).flatMap((statement) => list(statement.Action));
    expect(actions.filter((action) => action.includes("*"))).toEqual([]);
    expect(sorted(actions)).toEqual(sorted([...CONTROL_ACTIONS[key], ...DATA_ACTIONS]));
    expect(statements(key).every((statement) => statement.Effect === "Allow")).toBe(true);
  });

  it.each(Object.keys(FUNCTIONS) as FunctionKey[])(
    "%s: `*` resources only where IAM has no resource type",
    (key) => {
      const { statements } = inspect(production.report);
      for (const statement of statements(key)) {
        if (list(statement.Resource).includes("*")) {
          expect(list(statement.Resource)).toEqual(["*"]);
          expect(UNSCOPABLE).toEqual(expect.arrayContaining(list(statement.Action)));
        }
      }
    },
  );

  it.each(Object.keys(FUNCTIONS) as FunctionKey[])("%s: App Runner calls scoped to service ARNs", (key) => {
    const { statements } = inspect(production.report);
    for (const statement of statements(key)) {
      const actions = list(statement.Action).filter((action) => action.startsWith("apprunner:"));
      if (actions.length === 0 || actions.includes("apprunner:ListServices")) continue;
      const resources = list(statement.Resource);
      if (resources.includes(SERVICES)) {
        expect(resources).toEqual([SERVICES]);
      } else {
        // Rebuilds recreate a service whose spec references its configurations.
        expect(actions).toEqual(["apprunner:CreateService"]);
        expect(sorted(resources)).toEqual(
          sorted(
            ["autoscalingconfiguration", "observabilityconfiguration", "vpcconnector"].map(
              (type) => `arn:aws:apprunner:${REGION}:${ACCOUNT}:${type}/*`,
            ),
          ),
        );
      }
    }
  });

  it("passes only the App Runner access roles, and only to App Runner", () => {
    for (const [{ statements }, roles] of [
      [inspect(production.report), [CONSOLE_ACCESS_ROLE]],
      [inspect(dev.report), CONFIGURED_ACCESS_ROLES],
    ] as const) {
      for (const key of ["image-scan", "apprunner-event", "reconcile"] as const) {
        const passRole = statements(key).filter((statement) =>
          list(statement.Action).includes("iam:PassRole"),
        );
        expect(passRole, key).toHaveLength(1);
        expect(list(passRole[0]!.Action)).toEqual(["iam:PassRole"]);
        expect(sorted(list(passRole[0]!.Resource))).toEqual(sorted(roles));
        expect(passRole[0]!.Condition).toEqual({
          StringEquals: { "iam:PassedToService": "apprunner.amazonaws.com" },
        });
      }
    }
  });

  it("scopes data access to Gantry's own tables, topic, queue and App Runner logs", () => {
    const { one, statements, queueArn, topicArn } = inspect(production.report);
    const ledger = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${one("aws:dynamodb/table:Table", "LedgerTable").name}`;
    const idempotency = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${one("aws:dynamodb/table:Table", "IdempotencyTable").name}`;
    const allowed = new Set([
      ledger,
      `${ledger}/index/*`,
      idempotency,
      topicArn("Notifications"),
      queueArn,
      `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/*`,
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/apprunner/*`,
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/apprunner/*:log-stream:*`,
    ]);
    for (const key of Object.keys(FUNCTIONS) as FunctionKey[]) {
      for (const statement of statements(key)) {
        const actions = list(statement.Action);
        if (actions.some((action) => /^(dynamodb|sns|sqs|ecr|logs):/.test(action))) {
          for (const resource of list(statement.Resource)) {
            expect(allowed, `${key} ${resource}`).toContain(resource);
          }
        }
      }
    }
  });

  it.each(Object.keys(FUNCTIONS) as FunctionKey[])("%s: the role trusts Lambda only", (key) => {
    const { one } = inspect(production.report);
    const role = one("aws:iam/role:Role", `${FUNCTIONS[key]}Role`);
    const trust =
      typeof role.assumeRolePolicy === "string" ? JSON.parse(role.assumeRolePolicy) : role.assumeRolePolicy;
    expect(trust.Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Principal: { Service: "lambda.amazonaws.com" },
      }),
    ]);
  });
});

describe("storage, queue, topic, alarm", () => {
  it("declares the ledger: pk/sk, GSI byDigest on gsi1pk/gsi1sk, TTL expiresAt", () => {
    const { one } = inspect(production.report);
    expect(one("aws:dynamodb/table:Table", "LedgerTable")).toMatchObject({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
        { name: "gsi1pk", type: "S" },
        { name: "gsi1sk", type: "S" },
      ],
      globalSecondaryIndexes: [
        { name: "byDigest", hashKey: "gsi1pk", rangeKey: "gsi1sk", projectionType: "ALL" },
      ],
      ttl: { attributeName: "expiresAt", enabled: true },
    });
  });

  it("keeps point-in-time recovery and deletion protection for production only", () => {
    expect(inspect(production.report).one("aws:dynamodb/table:Table", "LedgerTable")).toMatchObject({
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
    });
    expect(inspect(dev.report).one("aws:dynamodb/table:Table", "LedgerTable")).toMatchObject({
      pointInTimeRecovery: { enabled: false },
      deletionProtectionEnabled: false,
    });
  });

  it("declares the Powertools idempotency table: id, TTL expiration", () => {
    const table = inspect(production.report).one("aws:dynamodb/table:Table", "IdempotencyTable");
    expect(table).toMatchObject({
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      ttl: { attributeName: "expiration", enabled: true },
    });
    expect(table.rangeKey).toBeUndefined();
  });

  it("keeps dead letters for 14 days in a standard queue", () => {
    expect(inspect(production.report).one("aws:sqs/queue:Queue", "DeadLettersQueue")).toMatchObject({
      fifoQueue: false,
      messageRetentionSeconds: 14 * 24 * 60 * 60,
    });
  });

  it("alarms to the Alarms topic as soon as a dead letter is visible", () => {
    const { one, topicArn } = inspect(production.report);
    expect(one("aws:cloudwatch/metricAlarm:MetricAlarm", "DeadLettersAlarm")).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: one("aws:sqs/queue:Queue", "DeadLettersQueue").name },
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      alarmActions: [topicArn("Alarms")],
    });
  });

  it("outputs the table names, the topic ARN and the queue URL", () => {
    const { one, topicArn } = inspect(production.report);
    const queue = one("aws:sqs/queue:Queue", "DeadLettersQueue").name;
    expect(production.report.outputs).toMatchObject({
      ledgerTable: one("aws:dynamodb/table:Table", "LedgerTable").name,
      idempotencyTable: one("aws:dynamodb/table:Table", "IdempotencyTable").name,
      notificationsTopicArn: topicArn("Notifications"),
      deadLettersUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queue}`,
    });
  });
});
