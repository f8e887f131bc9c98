/**
 * Evaluates the real `sst.config.ts` offline (`node scripts/sst.mjs check`: SST's components under
 * Pulumi mocks, with a fake SST RPC server so that Lambda functions register too) and checks what
 * would be deployed. Expectations are written out here, not imported from `infra/`, so that a
 * change to the infra has to be a deliberate change to this file too.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseDeployedConfig, parseGantryConfig } from "@gantry/core";
import { parseRuntimeConfig } from "@gantry/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import gantryConfig from "../../gantry.config.ts";
import { gantryRules } from "../../packages/events/src/rules.ts";

const root = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

interface Resource {
  type: string;
  name: string;
  parent: string | null;
  /** Pulumi's `retainOnDelete` after SST's transformations (`removal: "retain"` sets it on tables and buckets). */
  retainOnDelete: boolean | null;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are arbitrary provider JSON.
  inputs: Record<string, any>;
}

interface Report {
  app: {
    name: string;
    stage: string;
    removal: string;
    protect: boolean;
    providers: { aws?: { region?: string } };
  };
  timings: { installMs: number; bundleMs: number; evaluateMs: number; totalMs: number };
  errors: string[];
  outputs: Record<string, unknown>;
  handlers: { functionID: string; handler: string; source: string | null; links: string[] }[];
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
/** The offline check's region when neither sst.config.ts nor the environment names one. */
const REGION = "us-east-1";
/** `dev` is checked with AWS_REGION set, `live` with GANTRY_REGION (which wins over AWS_REGION). */
const DEV_REGION = "eu-central-1";
const LIVE_REGION = "eu-west-1";
const SERVICES = `arn:aws:apprunner:${REGION}:${ACCOUNT}:service/*`;
const CONSOLE_ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AppRunnerECRAccessRole`;
const CONFIGURED_ACCESS_ROLES = [
  `arn:aws:iam::${ACCOUNT}:role/gantry/pull-team-a`,
  `arn:aws:iam::${ACCOUNT}:role/gantry/pull-team-b`,
];
/** App Runner instance roles (`InstanceConfiguration.InstanceRoleArn`) a rebuild passes back. */
const CONFIGURED_INSTANCE_ROLES = [
  `arn:aws:iam::${ACCOUNT}:role/apprunner/storefront-instance`,
  `arn:aws:iam::${ACCOUNT}:role/apprunner/billing-instance`,
];
/** Uploads enabled on `prod` (the example config, its services in us-east-1) with its SST secrets. */
const UPLOADS = {
  GANTRY_UPLOADS_CONFIG: "examples/uploads.config.json",
  SST_SECRET_UploadsOriginVerify: "current-origin-verify-0123456789abcdefghijkl",
  SST_SECRET_UploadsTokenKey: "token-key-0123456789abcdef0123456789abcdef",
  SST_SECRET_UploadsStorefrontAuthKey: "-----BEGIN PUBLIC KEY-----storefront",
  SST_SECRET_UploadsBillingAuthKey: "-----BEGIN PUBLIC KEY-----billing",
  SST_SECRET_UploadsStorefrontWebhookSecret: "webhook-secret-0123456789abcdef0123456789",
};

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
/** Resume, rebuild (`CREATE_FAILED` → delete + create with the Gantry tags, custom domains checked first). */
const OPERATE = [
  ...DEPLOY,
  "apprunner:DescribeCustomDomains",
  "apprunner:DeleteService",
  "apprunner:CreateService",
  "apprunner:ResumeService",
  "apprunner:TagResource",
];
/** Discovery: every live service from App Runner, the managed ones with their tags from the tagging API. */
const DISCOVER = ["apprunner:ListServices", "tag:GetResources"];
/** Judge a digest: ECR basic scan, Inspector enhanced scan. (Nothing calls ecr:DescribeImages.) */
const JUDGE = ["ecr:DescribeImageScanFindings", "inspector2:ListFindings"];
/** Settling a finished operation quotes the service's logs. */
const LOGS = ["logs:FilterLogEvents"];
/** Every function may schedule a durable retry (and pass the scheduler its role). */
const SCHEDULE_RETRY = ["scheduler:CreateSchedule", "iam:PassRole"];

/** Control-plane actions per function: what its use cases call (`iam:PassRole` for App Runner too). */
const CONTROL_ACTIONS: Record<FunctionKey, string[]> = {
  "image-push": [...DISCOVER, ...DEPLOY, "iam:PassRole", ...JUDGE, ...LOGS, ...SCHEDULE_RETRY],
  "image-scan": [...DISCOVER, ...DEPLOY, "iam:PassRole", ...JUDGE, ...LOGS, ...SCHEDULE_RETRY],
  "apprunner-event": [...OPERATE, "iam:PassRole", ...LOGS, ...SCHEDULE_RETRY],
  retry: [...DEPLOY, "iam:PassRole", ...LOGS, ...SCHEDULE_RETRY],
  reconcile: [...DISCOVER, ...OPERATE, "iam:PassRole", ...JUDGE, ...LOGS, ...SCHEDULE_RETRY],
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
const UNSCOPABLE = ["apprunner:ListServices", "tag:GetResources", "inspector2:ListFindings"];

const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

let workdir: string;

/** Deploy-time settings a developer's shell may carry: every check starts without them. */
const CLEAN_ENV = {
  GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "",
  GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS: "",
  GANTRY_PROTECTED_STAGES: "",
  GANTRY_PUBLIC_CONCURRENCY: "",
  GANTRY_REGION: "",
  AWS_REGION: "",
  AWS_DEFAULT_REGION: "",
  GANTRY_UPLOADS_CONFIG: "",
  GANTRY_SLACK_SERVICES: "",
};

/** One check per core, at most three: more at once only slows each down (and its time budget). */
const CHECKS_AT_ONCE = Math.max(1, Math.min(3, availableParallelism()));
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= CHECKS_AT_ONCE) await new Promise<void>((resume) => waiting.push(resume));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** `check` for a configuration that must be refused: its exit code, stderr and wall time (queueing aside). */
function refused(stage: string, env: Record<string, string>) {
  return limited(async () => {
    const started = performance.now();
    try {
      await checkNow(stage, env);
      return { code: 0, stderr: "", wallMs: performance.now() - started };
    } catch (error) {
      const { code, stderr } = error as { code: number; stderr: string };
      return { code, stderr, wallMs: performance.now() - started };
    }
  });
}

async function check(stage: string, env: Record<string, string> = {}) {
  return limited(() => checkNow(stage, env));
}

async function checkNow(stage: string, env: Record<string, string>) {
  const out = join(workdir, `${stage}.json`);
  const started = performance.now();
  const result = await run(process.execPath, ["scripts/sst.mjs", "check", "--stage", stage, "--out", out], {
    cwd: root,
    env: { ...process.env, ...CLEAN_ENV, ...env },
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
  const region = report.app.providers.aws?.region ?? REGION;
  const fnArn = (key: FunctionKey) => `arn:aws:lambda:${region}:${ACCOUNT}:function:${fn(key).name}`;
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
  /** Every role's statements, by the role's logical name. */
  const allStatements = (): { role: string; statements: Statement[] }[] =>
    all("aws:iam/role:Role")
      .filter((role) => role.inputs.inlinePolicies?.length)
      .map((role) => ({
        role: role.name,
        statements: role.inputs.inlinePolicies.flatMap(
          (inline: { policy: string }) => policyOf(inline.policy).Statement as Statement[],
        ),
      }));
  return {
    all,
    one,
    fn,
    fnArn,
    queueArn,
    topicArn,
    ruleArn,
    roleStatements,
    statements,
    policyOf,
    allStatements,
  };
}

let production: Awaited<ReturnType<typeof check>>;
/** The short stage name is protected too, and has uploads (a bucket that must not be force-destroyed). */
let prod: Awaited<ReturnType<typeof check>>;
let dev: Awaited<ReturnType<typeof check>>;
/** A configured protected-stage list and an explicit region. */
let live: Awaited<ReturnType<typeof check>>;
let invalid: { code: number; stderr: string; wallMs: number };
let badRegion: { code: number; stderr: string };
let badInstanceRole: { code: number; stderr: string };
let badConcurrency: { code: number; stderr: string };
let tooComplexFilter: { code: number; stderr: string };

/** Slack limited to 51 services: 3 levels × 51 services = 153 combinations, SNS allows 150. */
const MANY_SERVICES = Array.from({ length: 51 }, (_, index) => `service-${index}`).join(",");

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), "gantry-infra-test-"));
  [production, prod, dev, live, invalid, badRegion, badInstanceRole, badConcurrency, tooComplexFilter] =
    await Promise.all([
      check("production"),
      check("prod", UPLOADS),
      check("dev", {
        GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: CONFIGURED_ACCESS_ROLES.join(", "),
        GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS: CONFIGURED_INSTANCE_ROLES.join(","),
        GANTRY_PUBLIC_CONCURRENCY: "none",
        AWS_REGION: DEV_REGION,
      }),
      check("live", {
        GANTRY_PROTECTED_STAGES: "live, production",
        GANTRY_REGION: LIVE_REGION,
        AWS_REGION: DEV_REGION,
        GANTRY_PUBLIC_CONCURRENCY: "25",
      }),
      refused("invalid", { GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "AppRunnerECRAccessRole" }),
      refused("badregion", { GANTRY_REGION: "moon-base-1a" }),
      refused("badinstancerole", { GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS: "storefront-instance" }),
      refused("badconcurrency", { GANTRY_PUBLIC_CONCURRENCY: "0" }),
      refused("noisy", { GANTRY_SLACK_SERVICES: MANY_SERVICES }),
    ]);
  console.info(
    `sst check (production): ${production.report.resources.length} resources, ` +
      `${production.report.timings.totalMs} ms in the script, ${Math.round(production.wallMs)} ms wall ` +
      `(nine checks, ${CHECKS_AT_ONCE} at a time)`,
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
      // Data access comes with the links (exact DynamoDB and SNS calls), no secrets.
      links: ["IdempotencyAccess", "LedgerAccess", "NotificationsPublish"],
    });
    expect(fn(key)).toMatchObject({
      handler: `functions/${key}.handler`,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 512,
      // The reconciler's budget comes from its remaining time: 4 min, under its 5-min schedule.
      timeout: key === "reconcile" ? 240 : 60,
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
      `arn:aws:lambda:${DEV_REGION}:${ACCOUNT}:function:${RETRY_FUNCTION("dev")}`,
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

  it("passes the configured instance roles to App Runner from the functions that recreate services, only", () => {
    const instanceRoleStatement = {
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: CONFIGURED_INSTANCE_ROLES,
      // App Runner documents both principals for instance roles: the service and its tasks.
      Condition: {
        StringEquals: {
          "iam:PassedToService": ["apprunner.amazonaws.com", "tasks.apprunner.amazonaws.com"],
        },
      },
    };
    const { statements } = inspect(dev.report);
    for (const key of FUNCTION_KEYS) {
      const recreates = CONTROL_ACTIONS[key].includes("apprunner:CreateService");
      const passRole = statements(key).filter((statement) => list(statement.Action).includes("iam:PassRole"));
      expect(passRole, key).toHaveLength(recreates ? 3 : 2);
      if (recreates) expect(passRole, key).toContainEqual(instanceRoleStatement);
      else expect(passRole, key).not.toContainEqual(instanceRoleStatement);
    }
    // None configured: no instance role may be passed at all (IAM has no empty resource list).
    for (const key of FUNCTION_KEYS) {
      const passRole = inspect(production.report)
        .statements(key)
        .filter((statement) => list(statement.Action).includes("iam:PassRole"));
      expect(passRole, key).toHaveLength(2);
    }
  });

  it("tells the runtime which roles it may pass, so a recreate naming another role is refused before the delete", () => {
    for (const key of FUNCTION_KEYS) {
      expect(
        inspect(production.report).fn(key).environment.variables.GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS,
        key,
      ).toBe(CONSOLE_ACCESS_ROLE);
      expect(
        inspect(dev.report).fn(key).environment.variables.GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS?.split(","),
        key,
      ).toEqual([...CONFIGURED_ACCESS_ROLES, ...CONFIGURED_INSTANCE_ROLES]);
    }
  });

  it("refuses an instance role that is not an IAM role ARN, naming the variable", () => {
    expect(badInstanceRole.code).not.toBe(0);
    expect(badInstanceRole.stderr).toContain(
      'GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS: "storefront-instance" is not an IAM role ARN',
    );
  });

  it("changes only services tagged gantry:managed=true (IAM condition keys App Runner supports)", () => {
    const onExisting = ["apprunner:UpdateService", "apprunner:DeleteService", "apprunner:ResumeService"];
    const onCreate = ["apprunner:CreateService", "apprunner:TagResource"];
    const reads = ["apprunner:DescribeService", "apprunner:ListOperations", "apprunner:ListTagsForResource"];
    for (const report of [production.report, dev.report, prod.report]) {
      const roles = inspect(report).allStatements();
      const changing = roles.filter(({ statements }) =>
        statements.some((statement) => list(statement.Action).some((action) => onExisting.includes(action))),
      );
      // Gantry's deploying functions and the Slack buttons at least.
      expect(changing.length).toBeGreaterThanOrEqual(FUNCTION_KEYS.length);
      for (const { role, statements } of roles) {
        for (const statement of statements) {
          const actions = list(statement.Action);
          if (actions.some((action) => onExisting.includes(action))) {
            expect(
              actions.every((action) => onExisting.includes(action)),
              role,
            ).toBe(true);
            expect(statement.Condition, role).toEqual({
              StringEquals: { "aws:ResourceTag/gantry:managed": "true" },
            });
          }
          if (actions.some((action) => onCreate.includes(action))) {
            expect(
              actions.every((action) => onCreate.includes(action)),
              role,
            ).toBe(true);
            expect(statement.Condition, role).toEqual({
              StringEquals: { "aws:RequestTag/gantry:managed": "true" },
              "ForAnyValue:StringEquals": { "aws:TagKeys": "gantry:managed" },
            });
          }
          // Discovery reads every service's tags: reads stay unconditioned, never mixed with writes.
          if (actions.some((action) => reads.includes(action))) {
            expect(
              actions.every((action) => reads.includes(action)),
              role,
            ).toBe(true);
          }
        }
      }
    }
  });

  it("grants ecr:DescribeImages to no one: nothing in Gantry calls it", () => {
    for (const report of [production.report, prod.report]) {
      for (const { role, statements } of inspect(report).allStatements()) {
        expect(
          statements.flatMap((statement) => list(statement.Action)),
          role,
        ).not.toContain("ecr:DescribeImages");
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

describe("stage protection", () => {
  const protectedStages = () =>
    [
      ["production", production.report],
      ["prod", prod.report],
      ["live (GANTRY_PROTECTED_STAGES)", live.report],
    ] as const;

  it.each([0, 1, 2])("protected stage #%i: retain on removal, `sst remove` refused", (index) => {
    const [stage, report] = protectedStages()[index]!;
    expect(report.errors, stage).toEqual([]);
    expect(report.app, stage).toMatchObject({ removal: "retain", protect: true });
    expect(report.outputs._protect, stage).toBe(true);
  });

  it.each([0, 1, 2])(
    "protected stage #%i: tables retained, deletion-protected; the ledger has PITR",
    (index) => {
      const [stage, report] = protectedStages()[index]!;
      const { one } = inspect(report);
      expect(one("aws:dynamodb/table:Table", "LedgerTable"), stage).toMatchObject({
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
      });
      expect(one("aws:dynamodb/table:Table", "IdempotencyTable"), stage).toMatchObject({
        deletionProtectionEnabled: true,
      });
      for (const table of inspect(report).all("aws:dynamodb/table:Table")) {
        expect(table.retainOnDelete, `${stage} ${table.name}`).toBe(true);
      }
    },
  );

  it.each([0, 1, 2])("protected stage #%i: nothing is force-destroyed", (index) => {
    const [stage, report] = protectedStages()[index]!;
    const forced = report.resources.filter((resource) => resource.inputs.forceDestroy === true);
    expect(
      forced.map((resource) => resource.name),
      stage,
    ).toEqual([]);
  });

  it("prod's uploads bucket is kept: no forceDestroy, retained on removal", () => {
    const bucket = prod.report.resources.find(
      (resource) => resource.type === "aws:s3/bucket:Bucket" && resource.name === "UploadsBucket",
    );
    expect(bucket?.inputs.forceDestroy).toBe(false);
    expect(bucket?.retainOnDelete).toBe(true);
  });

  it("an unprotected stage (dev) can be removed: no retain, no deletion protection, no PITR", () => {
    const { one } = inspect(dev.report);
    expect(dev.report.app).toMatchObject({ removal: "remove", protect: false });
    expect(one("aws:dynamodb/table:Table", "LedgerTable")).toMatchObject({
      pointInTimeRecovery: { enabled: false },
      deletionProtectionEnabled: false,
    });
    expect(one("aws:dynamodb/table:Table", "IdempotencyTable")).toMatchObject({
      deletionProtectionEnabled: false,
    });
    for (const table of inspect(dev.report).all("aws:dynamodb/table:Table")) {
      expect(table.retainOnDelete, table.name).not.toBe(true);
    }
  });
});

describe("region", () => {
  it("is not hard-coded: without GANTRY_REGION or AWS_REGION the AWS profile decides", () => {
    expect(production.report.app.providers.aws?.region).toBeUndefined();
  });

  it("comes from AWS_REGION (shell or .env.<stage>)", () => {
    expect(dev.report.app.providers.aws?.region).toBe(DEV_REGION);
    const { fn, one } = inspect(dev.report);
    expect(fn("retry").environment.variables.GANTRY_RETRY_FUNCTION_ARN).toMatch(
      new RegExp(`^arn:aws:lambda:${DEV_REGION}:`),
    );
    const widgets = JSON.parse(one("aws:cloudwatch/dashboard:Dashboard", "Dashboard").dashboardBody).widgets;
    expect(
      new Set(widgets.map((widget: { properties: { region: string } }) => widget.properties.region)),
    ).toEqual(new Set([DEV_REGION]));
  });

  it("GANTRY_REGION names the stage's region and wins over AWS_REGION", () => {
    expect(live.report.app.providers.aws?.region).toBe(LIVE_REGION);
    expect(live.report.outputs.region).toBe(LIVE_REGION);
    expect(inspect(live.report).fn("reconcile").environment.variables.GANTRY_RETRY_FUNCTION_ARN).toBe(
      `arn:aws:lambda:${LIVE_REGION}:${ACCOUNT}:function:${RETRY_FUNCTION("live")}`,
    );
  });

  it("refuses a GANTRY_REGION that is not a region, naming the variable", () => {
    expect(badRegion.code).not.toBe(0);
    expect(badRegion.stderr).toContain('GANTRY_REGION: "moon-base-1a" is not an AWS region');
  });
});

describe("public endpoints cannot starve the deploy functions", () => {
  /** Functions anyone on the internet (or an upload) can make run: capped with reserved concurrency. */
  const PUBLIC = ["SlackInteractivityFunction"];
  const PUBLIC_UPLOADS = [
    "UploadsStorefrontPresignFunction",
    "UploadsBillingPresignFunction",
    "UploadsCompletedFunction",
  ];
  const reserved = (report: Report, name: string) =>
    inspect(report).one("aws:lambda/function:Function", name).reservedConcurrentExecutions;

  it("caps the Slack button URL and the upload functions at 10 concurrent executions by default", () => {
    for (const name of PUBLIC) expect(reserved(production.report, name), name).toBe(10);
    for (const name of [...PUBLIC, ...PUBLIC_UPLOADS]) expect(reserved(prod.report, name), name).toBe(10);
  });

  it("leaves Gantry's own functions the account's unreserved pool, which the capped ones cannot drain", () => {
    for (const key of FUNCTION_KEYS) {
      expect(inspect(production.report).fn(key).reservedConcurrentExecutions, key).toBeUndefined();
    }
  });

  it("GANTRY_PUBLIC_CONCURRENCY sets the cap, `none` removes it; 0 (a disabled function) is refused", () => {
    for (const name of PUBLIC) expect(reserved(live.report, name), name).toBe(25);
    for (const name of PUBLIC) expect(reserved(dev.report, name), name).toBeUndefined();
    expect(badConcurrency.code).not.toBe(0);
    expect(badConcurrency.stderr).toContain(
      'GANTRY_PUBLIC_CONCURRENCY: "0" must be a whole number from 1 to 1000, or none',
    );
  });
});

describe("SNS filter policies", () => {
  it("refuses a subscription filter policy over SNS's 150 combinations at deploy time, saying why", () => {
    expect(tooComplexFilter.code).not.toBe(0);
    expect(tooComplexFilter.stderr).toContain("SlackNotifySubscription");
    expect(tooComplexFilter.stderr).toContain("153 combinations of values");
    expect(tooComplexFilter.stderr).toContain("at most 150");
  });
});

describe("what the CLI needs from a stage", () => {
  it("outputs the retry function, the scheduler role and the region, and the CLI's environment in one object", () => {
    const { fnArn, one, topicArn } = inspect(production.report);
    const outputs = production.report.outputs;
    expect(outputs).toMatchObject({
      retryFunctionArn: fnArn("retry"),
      retryRoleArn: `arn:aws:iam::${ACCOUNT}:role/${RETRY_ROLE("production")}`,
    });
    expect(outputs.cliEnvironment).toEqual({
      GANTRY_STAGE: "production",
      AWS_REGION: REGION,
      GANTRY_LEDGER_TABLE: one("aws:dynamodb/table:Table", "LedgerTable").name,
      GANTRY_IDEMPOTENCY_TABLE: one("aws:dynamodb/table:Table", "IdempotencyTable").name,
      GANTRY_TOPIC_ARN: topicArn("Notifications"),
      GANTRY_RETRY_FUNCTION_ARN: fnArn("retry"),
      GANTRY_RETRY_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/${RETRY_ROLE("production")}`,
      GANTRY_RETRY_SCHEDULE_GROUP: RETRY_GROUP("production"),
    });
    // The infra → CLI contract: the runtime accepts it, durable retries included.
    expect(parseRuntimeConfig(outputs.cliEnvironment as Record<string, string>).retryScheduler).toEqual({
      functionArn: fnArn("retry"),
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${RETRY_ROLE("production")}`,
      groupName: RETRY_GROUP("production"),
    });
    expect((live.report.outputs.cliEnvironment as Record<string, string>).AWS_REGION).toBe(LIVE_REGION);
  });

  it("publishes the deployed gantry.config.ts in the ledger table, validated, for the CLI's re-gating", () => {
    const { all, one } = inspect(production.report);
    const items = all("aws:dynamodb/tableItem:TableItem");
    expect(items).toHaveLength(1);
    const item = items[0]!.inputs;
    expect(item).toMatchObject({
      tableName: one("aws:dynamodb/table:Table", "LedgerTable").name,
      hashKey: "pk",
      rangeKey: "sk",
    });
    // DynamoDB JSON, as the table item resource takes it: every attribute a string.
    const attributes = Object.fromEntries(
      Object.entries(JSON.parse(item.item) as Record<string, { S: string }>).map(([name, value]) => [
        name,
        value.S,
      ]),
    );
    const deployed = parseDeployedConfig(attributes);
    expect(deployed.config).toEqual(parseGantryConfig(gantryConfig));
    expect(deployed.version).toMatch(/^[0-9a-f]{12}$/);
    expect(production.report.outputs.gantryConfigVersion).toBe(deployed.version);
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
