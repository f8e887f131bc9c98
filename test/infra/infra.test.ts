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
  retry: "Retry",
  reconcile: "Reconcile",
} as const;
type FunctionKey = keyof typeof FUNCTIONS;
const FUNCTION_KEYS = Object.keys(FUNCTIONS) as FunctionKey[];

/** Deploy by digest: read the service, wait out a running operation, update it. */
const DEPLOY = [
  "apprunner:ListOperations",
  "apprunner:DescribeService",
  "apprunner:ListTagsForResource",
  "apprunner:UpdateService",
];
/** Resume, rebuild (`CREATE_FAILED` → delete + create with the Gantry tags). */
const OPERATE = [
  ...DEPLOY,
  "apprunner:DeleteService",
  "apprunner:CreateService",
  "apprunner:ResumeService",
  "apprunner:TagResource",
];
/** Judge a digest: ECR basic scan, Inspector enhanced scan. */
const JUDGE = ["ecr:DescribeImages", "ecr:DescribeImageScanFindings", "inspector2:ListFindings"];
/** Settling a finished operation quotes the service's logs. */
const LOGS = ["logs:FilterLogEvents"];
/** Every function may schedule a durable retry (and pass the scheduler its role). */
const SCHEDULE_RETRY = ["scheduler:CreateSchedule", "iam:PassRole"];

/** Control-plane actions per function: what its use cases call (`iam:PassRole` for App Runner too). */
const CONTROL_ACTIONS: Record<FunctionKey, string[]> = {
  "image-push": ["apprunner:ListServices", ...DEPLOY, "iam:PassRole", ...JUDGE, ...LOGS, ...SCHEDULE_RETRY],
  "image-scan": ["apprunner:ListServices", ...DEPLOY, "iam:PassRole", ...JUDGE, ...LOGS, ...SCHEDULE_RETRY],
  "apprunner-event": [...OPERATE, "iam:PassRole", ...LOGS, ...SCHEDULE_RETRY],
  retry: [...DEPLOY, "iam:PassRole", ...LOGS, ...SCHEDULE_RETRY],
  reconcile: ["apprunner:ListServices", ...OPERATE, "iam:PassRole", ...JUDGE, ...LOGS, ...SCHEDULE_RETRY],
};

/** The names `infra/recovery.ts` derives from app and stage, so no ARN waits on a resource. */
const RETRY_FUNCTION = (stage: string) => `gantry-${stage}-retry`;
const RETRY_GROUP = (stage: string) => `gantry-${stage}-retries`;
const RETRY_ROLE = (stage: string) => `gantry-${stage}-retry-scheduler`;

/** The `handler` dimension of every Gantry function's metrics. */
const HANDLERS = ["image-push", "image-scan", "apprunner-event", "retry", "reconcile"];

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
  const roleStatements = (name: string): Statement[] => {
    const role = one("aws:iam/role:Role", name);
    expect(role.inlinePolicies, name).toHaveLength(1);
    return JSON.parse(role.inlinePolicies[0].policy).Statement;
  };
  const statements = (key: FunctionKey) => roleStatements(`${FUNCTIONS[key]}Role`);
  const policyOf = (value: string | object) => (typeof value === "string" ? JSON.parse(value) : value);
  return { all, one, fn, fnArn, queueArn, topicArn, ruleArn, roleStatements, statements, policyOf };
}

let production: Awaited<ReturnType<typeof check>>;
let dev: Awaited<ReturnType<typeof check>>;
let invalid: { code: number; stderr: string; wallMs: number };

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), "gantry-infra-test-"));
  const invalidStarted = performance.now();
  [production, dev, invalid] = await Promise.all([
    check("production"),
    check("dev", { GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: CONFIGURED_ACCESS_ROLES.join(", ") }),
    check("invalid", { GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "AppRunnerECRAccessRole" }).then(
      () => ({ code: 0, stderr: "", wallMs: performance.now() - invalidStarted }),
      (error: { code: number; stderr: string }) => ({
        code: error.code,
        stderr: error.stderr,
        wallMs: performance.now() - invalidStarted,
      }),
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
    // Other features (Slack, uploads) add functions of their own; Gantry's five must all be there.
    expect(all("aws:lambda/function:Function").map((resource) => resource.name)).toEqual(
      expect.arrayContaining(Object.values(FUNCTIONS).map((name) => `${name}Function`)),
    );
    expect(production.report.handlers.filter((handler) => handler.source === null)).toEqual([]);
  });

  it("rejects an access role that is not an IAM role ARN, naming the variable, without hanging", () => {
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain(
      'GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "AppRunnerECRAccessRole" is not an IAM role ARN',
    );
    // An error inside an apply() used to leave the stack outputs pending until the 120 s kill.
    expect(invalid.wallMs).toBeLessThan(60_000);
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

  it("learns who paused a service from CloudTrail's PauseService record", () => {
    const { one, fnArn } = inspect(production.report);
    // Written out rather than taken from gantryRules: this is what AWS must deliver.
    expect(gantryRules.map((rule) => rule.name)).toContain("apprunner-pause-call");
    const rule = one("aws:cloudwatch/eventRule:EventRule", "ApprunnerPauseCallRule");
    expect(rule.name).toBe("gantry-production-apprunner-pause-call");
    expect(JSON.parse(rule.eventPattern)).toEqual({
      source: ["aws.apprunner"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: { eventSource: ["apprunner.amazonaws.com"], eventName: ["PauseService"] },
    });
    expect(one("aws:cloudwatch/eventTarget:EventTarget", "ApprunnerPauseCallTarget").arn).toBe(
      fnArn("apprunner-event"),
    );
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
  it.each(FUNCTION_KEYS)("%s: runtime, handler, size and environment", (key) => {
    const { one, fn, topicArn } = inspect(production.report);
    const handler = production.report.handlers.find((entry) => entry.functionID === FUNCTIONS[key]);
    expect(handler).toEqual({
      functionID: FUNCTIONS[key],
      handler: `functions/${key}.handler`,
      source: `functions/${key}.ts`,
      runtime: "nodejs22.x",
      // Split chunks: clients loaded on first use are read only when a function needs them.
      bundling: { format: "esm", splitting: true },
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

  it.each(FUNCTION_KEYS)("%s: may schedule a durable retry (all three variables)", (key) => {
    const { fn, fnArn } = inspect(production.report);
    const variables = fn(key).environment.variables;
    expect({
      GANTRY_RETRY_FUNCTION_ARN: variables.GANTRY_RETRY_FUNCTION_ARN,
      GANTRY_RETRY_ROLE_ARN: variables.GANTRY_RETRY_ROLE_ARN,
      GANTRY_RETRY_SCHEDULE_GROUP: variables.GANTRY_RETRY_SCHEDULE_GROUP,
    }).toEqual({
      GANTRY_RETRY_FUNCTION_ARN: fnArn("retry"),
      GANTRY_RETRY_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/${RETRY_ROLE("production")}`,
      GANTRY_RETRY_SCHEDULE_GROUP: RETRY_GROUP("production"),
    });
  });

  it("names the retry function after app and stage, so its ARN is known before it exists", () => {
    expect(inspect(production.report).fn("retry").name).toBe(RETRY_FUNCTION("production"));
    expect(inspect(dev.report).fn("retry").name).toBe(RETRY_FUNCTION("dev"));
    expect(inspect(dev.report).fn("retry").environment.variables.GANTRY_RETRY_FUNCTION_ARN).toBe(
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${RETRY_FUNCTION("dev")}`,
    );
  });

  it.each(FUNCTION_KEYS)("%s: async failures retry twice, then DeadLetters", (key) => {
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
  });
});

describe("IAM", () => {
  it.each(FUNCTION_KEYS)("%s: exactly its actions, none of them `*`", (key) => {
    const { statements } = inspect(production.report);
    const actions = statements(key).flatMap((statement) => list(statement.Action));
    expect(actions.filter((action) => action.includes("*"))).toEqual([]);
    expect(sorted(actions)).toEqual(sorted([...CONTROL_ACTIONS[key], ...DATA_ACTIONS]));
    expect(statements(key).every((statement) => statement.Effect === "Allow")).toBe(true);
  });

  it.each(FUNCTION_KEYS)("%s: `*` resources only where IAM has no resource type", (key) => {
    const { statements } = inspect(production.report);
    for (const statement of statements(key)) {
      if (list(statement.Resource).includes("*")) {
        expect(list(statement.Resource)).toEqual(["*"]);
        expect(UNSCOPABLE).toEqual(expect.arrayContaining(list(statement.Action)));
      }
    }
  });

  it.each(FUNCTION_KEYS)("%s: App Runner calls scoped to service ARNs", (key) => {
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

  it("passes the App Runner access roles only to App Runner, the scheduler role only to the scheduler", () => {
    for (const [{ statements }, stage, roles] of [
      [inspect(production.report), "production", [CONSOLE_ACCESS_ROLE]],
      [inspect(dev.report), "dev", CONFIGURED_ACCESS_ROLES],
    ] as const) {
      for (const key of FUNCTION_KEYS) {
        const passRole = statements(key).filter((statement) =>
          list(statement.Action).includes("iam:PassRole"),
        );
        expect(passRole, key).toHaveLength(2);
        for (const statement of passRole) expect(list(statement.Action)).toEqual(["iam:PassRole"]);
        expect(
          passRole.map((statement) => ({
            resources: sorted(list(statement.Resource)),
            condition: statement.Condition,
          })),
          `${stage} ${key}`,
        ).toEqual(
          expect.arrayContaining([
            {
              resources: sorted(roles),
              condition: { StringEquals: { "iam:PassedToService": "apprunner.amazonaws.com" } },
            },
            {
              resources: [`arn:aws:iam::${ACCOUNT}:role/${RETRY_ROLE(stage)}`],
              condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
            },
          ]),
        );
      }
    }
  });

  it.each(FUNCTION_KEYS)("%s: creates schedules in the Retries group only", (key) => {
    const { statements } = inspect(production.report);
    const scheduler = statements(key).filter((statement) =>
      list(statement.Action).some((action) => action.startsWith("scheduler:")),
    );
    expect(scheduler).toEqual([
      {
        Effect: "Allow",
        Action: "scheduler:CreateSchedule",
        Resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${RETRY_GROUP("production")}/*`,
      },
    ]);
  });

  it.each(FUNCTION_KEYS)("%s: reads App Runner logs with FilterLogEvents only", (key) => {
    const { statements } = inspect(production.report);
    expect(
      statements(key).filter((statement) => list(statement.Action).some((a) => a.startsWith("logs:"))),
    ).toEqual([
      {
        Effect: "Allow",
        Action: "logs:FilterLogEvents",
        Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/apprunner/*`,
      },
    ]);
  });

  it("scopes data access to Gantry's own tables, topic, queue, App Runner logs and retry schedules", () => {
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
      `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${RETRY_GROUP("production")}/*`,
    ]);
    for (const key of FUNCTION_KEYS) {
      for (const statement of statements(key)) {
        const actions = list(statement.Action);
        if (actions.some((action) => /^(dynamodb|sns|sqs|ecr|logs|scheduler):/.test(action))) {
          for (const resource of list(statement.Resource)) {
            expect(allowed, `${key} ${resource}`).toContain(resource);
          }
        }
      }
    }
  });

  it.each(FUNCTION_KEYS)("%s: the role trusts Lambda only", (key) => {
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

  it("outputs the table names, the topic ARN, the queue URL, the retry group and the dashboard", () => {
    const { one, topicArn } = inspect(production.report);
    const queue = one("aws:sqs/queue:Queue", "DeadLettersQueue").name;
    expect(production.report.outputs).toMatchObject({
      ledgerTable: one("aws:dynamodb/table:Table", "LedgerTable").name,
      idempotencyTable: one("aws:dynamodb/table:Table", "IdempotencyTable").name,
      notificationsTopicArn: topicArn("Notifications"),
      deadLettersUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queue}`,
      retryScheduleGroup: RETRY_GROUP("production"),
      dashboardName: "gantry-production",
    });
    expect(dev.report.outputs).toMatchObject({
      retryScheduleGroup: RETRY_GROUP("dev"),
      dashboardName: "gantry-dev",
    });
  });
});

describe("durable retries (EventBridge Scheduler)", () => {
  it("creates the Retries schedule group, named after app and stage", () => {
    expect(inspect(production.report).one("aws:scheduler/scheduleGroup:ScheduleGroup", "Retries")).toEqual({
      name: RETRY_GROUP("production"),
    });
    expect(inspect(dev.report).one("aws:scheduler/scheduleGroup:ScheduleGroup", "Retries").name).toBe(
      RETRY_GROUP("dev"),
    );
  });

  it("lets only EventBridge Scheduler assume the scheduler role, for this account's Retries group", () => {
    const { one, policyOf } = inspect(production.report);
    const role = one("aws:iam/role:Role", "RetrySchedulerRole");
    expect(role.name).toBe(RETRY_ROLE("production"));
    expect(role.managedPolicyArns ?? []).toEqual([]);
    expect(policyOf(role.assumeRolePolicy).Statement).toEqual([
      {
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Principal: { Service: "scheduler.amazonaws.com" },
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT },
          ArnEquals: {
            "aws:SourceArn": `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${RETRY_GROUP("production")}`,
          },
        },
      },
    ]);
  });

  it("lets the scheduler role invoke the retry function and nothing else", () => {
    const { roleStatements, fnArn } = inspect(production.report);
    expect(roleStatements("RetrySchedulerRole")).toEqual([
      { Effect: "Allow", Action: "lambda:InvokeFunction", Resource: fnArn("retry") },
    ]);
  });

  it("couples scheduling to the environment: a function may schedule retries iff it has all three variables", () => {
    const { all, policyOf } = inspect(production.report);
    const schedulerRole = `arn:aws:iam::${ACCOUNT}:role/${RETRY_ROLE("production")}`;
    const retryVariables = [
      "GANTRY_RETRY_FUNCTION_ARN",
      "GANTRY_RETRY_ROLE_ARN",
      "GANTRY_RETRY_SCHEDULE_GROUP",
    ];
    const roles = new Map(
      all("aws:iam/role:Role").map((role) => [
        `arn:aws:iam::${ACCOUNT}:role/${role.inputs.name}`,
        role.inputs,
      ]),
    );
    const scheduling = all("aws:lambda/function:Function").map((fn) => {
      const statements: Statement[] = (roles.get(fn.inputs.role)?.inlinePolicies ?? []).flatMap(
        (inline: { policy: string }) => policyOf(inline.policy).Statement as Statement[],
      );
      const variables = fn.inputs.environment?.variables ?? {};
      return {
        function: fn.name,
        variables: retryVariables.filter((name) => variables[name] !== undefined).length,
        createsSchedules: statements.some((statement) =>
          list(statement.Action).includes("scheduler:CreateSchedule"),
        ),
        passesSchedulerRole: statements.some(
          (statement) =>
            list(statement.Action).includes("iam:PassRole") &&
            list(statement.Resource).includes(schedulerRole),
        ),
      };
    });
    for (const entry of scheduling) {
      expect(entry, entry.function).toEqual(
        entry.createsSchedules
          ? { ...entry, variables: 3, passesSchedulerRole: true }
          : { ...entry, variables: 0, passesSchedulerRole: false },
      );
    }
    // Other features (Slack approvals) may deploy and so schedule retries too; Gantry's five must.
    expect(scheduling.filter((entry) => entry.createsSchedules).map((entry) => entry.function)).toEqual(
      expect.arrayContaining(Object.values(FUNCTIONS).map((name) => `${name}Function`)),
    );
  });
});

describe("observability", () => {
  interface Widget {
    type: string;
    width: number;
    height: number;
    properties: {
      title: string;
      region: string;
      metrics: (unknown[] | [{ expression: string; id: string; label: string }])[];
      stat?: string;
    };
  }

  const widgets = (report: Report): Widget[] => {
    const dashboard = inspect(report).one("aws:cloudwatch/dashboard:Dashboard", "Dashboard");
    return JSON.parse(dashboard.dashboardBody).widgets;
  };
  const widget = (report: Report, title: string) => {
    const found = widgets(report).filter((candidate) => candidate.properties.title === title);
    expect(found, title).toHaveLength(1);
    return found[0]!;
  };
  const expressions = (found: Widget) =>
    found.properties.metrics.map((line) => (line[0] as { expression?: string }).expression);
  const summed = (metric: string) =>
    `SUM(SEARCH('{Gantry,handler,service} MetricName="${metric}"', 'Sum', 300))`;

  it("names the dashboard after app and stage, every widget in the stage's region", () => {
    expect(
      inspect(production.report).one("aws:cloudwatch/dashboard:Dashboard", "Dashboard").dashboardName,
    ).toBe("gantry-production");
    for (const found of widgets(production.report)) {
      expect(found.type).toBe("metric");
      expect(found.properties.region).toBe(REGION);
    }
  });

  it.each([
    ["Deploys, blocks, rollbacks", ["Effect_deploy", "Effect_block", "Effect_rollback"]],
    ["Retries and give-ups", ["Effect_retry", "Effect_giveup"]],
    ["Recoveries", ["Effect_rebuild", "Effect_recreate", "Effect_resume"]],
    ["Handler errors", ["RetriableErrors", "HandlerFailures", "EventsDropped"]],
  ])("graphs %s, each summed across handlers", (title, metrics) => {
    expect(expressions(widget(production.report, title))).toEqual(metrics.map(summed));
  });

  it("graphs lead time as p50 and p90 per handler (percentiles do not add up)", () => {
    expect(expressions(widget(production.report, "Lead time, push to running (seconds)"))).toEqual([
      `SEARCH('{Gantry,handler,service} MetricName="LeadTimeSeconds"', 'p50', 300)`,
      `SEARCH('{Gantry,handler,service} MetricName="LeadTimeSeconds"', 'p90', 300)`,
    ]);
  });

  it("graphs the dead-letter queue's depth", () => {
    const { one } = inspect(production.report);
    const found = widget(production.report, "Dead-letter queue depth");
    expect(found.properties.stat).toBe("Maximum");
    expect(found.properties.metrics).toEqual([
      [
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        one("aws:sqs/queue:Queue", "DeadLettersQueue").name,
        expect.any(Object),
      ],
    ]);
  });

  const alarmBasics = () => ({
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    alarmActions: [inspect(production.report).topicArn("Alarms")],
    okActions: [inspect(production.report).topicArn("Alarms")],
  });

  it("alarms on a stuck operation, which only the reconciler reports", () => {
    const alarm = inspect(production.report).one(
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      "StuckOperationAlarm",
    );
    expect(alarm).toMatchObject({
      ...alarmBasics(),
      name: "gantry-production-stuck-operation",
      namespace: "Gantry",
      metricName: "Effect_stuck",
      dimensions: { service: "gantry", handler: "reconcile" },
      statistic: "Sum",
      period: 300,
    });
  });

  it.each([
    ["RollbackAlarm", "gantry-production-rollbacks", "Effect_rollback"],
    ["GiveUpAlarm", "gantry-production-give-ups", "Effect_giveup"],
    ["HandlerFailuresAlarm", "gantry-production-handler-failures", "HandlerFailures"],
  ])("%s: %s sums %s over every handler (no SEARCH: alarms refuse it)", (id, name, metric) => {
    const alarm = inspect(production.report).one("aws:cloudwatch/metricAlarm:MetricAlarm", id);
    expect(alarm).toMatchObject({ ...alarmBasics(), name });
    expect(alarm.metricName).toBeUndefined();
    const queries = alarm.metricQueries as {
      id: string;
      expression?: string;
      returnData: boolean;
      metric?: {
        namespace: string;
        metricName: string;
        dimensions: Record<string, string>;
        stat: string;
        period: number;
      };
    }[];
    const metrics = queries.filter((query) => query.metric);
    expect(metrics.map((query) => query.metric)).toEqual(
      HANDLERS.map((handler) => ({
        namespace: "Gantry",
        metricName: metric,
        dimensions: { service: "gantry", handler },
        stat: "Sum",
        period: 300,
      })),
    );
    expect(metrics.every((query) => query.returnData === false)).toBe(true);
    const returned = queries.filter((query) => query.returnData);
    expect(returned).toHaveLength(1);
    expect(returned[0]!.expression).toBe(`SUM([${metrics.map((query) => query.id).join(", ")}])`);
    expect(JSON.stringify(queries)).not.toContain("SEARCH");
  });
});
