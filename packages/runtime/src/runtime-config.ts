/**
 * The environment a Gantry function runs with, read once per cold start and validated up front so a
 * misconfigured deploy fails at init with every problem named, instead of on the first event that
 * happens to need the missing value. Problems name variables only, never their values: some of the
 * environment (and whatever a typo put into it) may be secret.
 */
import * as z from "zod";

export type Env = Readonly<Record<string, string | undefined>>;

export interface ServiceEndpoints {
  apprunner?: string;
  ecr?: string;
  dynamodb?: string;
  sns?: string;
  inspector?: string;
  logs?: string;
  scheduler?: string;
  /** The Resource Groups Tagging API (discovery); the sandbox serves it next to the App Runner emulator. */
  tagging?: string;
}

export interface RuntimeConfig {
  stage: string;
  region: string;
  ledgerTable: string;
  idempotencyTable: string;
  topicArn: string;
  /** Endpoint overrides; set only in the sandbox (App Runner emulator, DynamoDB Local, ...). */
  endpoints: Readonly<ServiceEndpoints>;
  /** App Runner calls per second this instance allows itself (bursts of twice that). */
  appRunnerMaxRps: number;
  /** Where durable retries go; absent where no retry can be scheduled (the CLI, unless set). */
  retryScheduler?: Readonly<{ functionArn: string; roleArn: string; groupName: string }>;
  /**
   * The IAM roles this function may pass to App Runner (set by infra/permissions.ts): a recreate
   * naming another is refused before anything is deleted. Absent where no IAM applies (sandbox).
   */
  passableRoleArns?: readonly string[];
}

export class RuntimeConfigError extends Error {
  /** One line per problem, each `<VARIABLE> <what is wrong>`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid Gantry runtime configuration: ${problems.join("; ")}`);
    this.name = "RuntimeConfigError";
    this.problems = problems;
  }
}

/** DynamoDB table names: 3-255 of letters, digits, `_`, `-`, `.`. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** `arn:<partition>:sns:<region>:<account>:<topic>`; the sandbox uses the same shape. */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const STAGE = /^[A-Za-z0-9_-]{1,64}$/;

/** `.env` files and CI templates often leave a variable present but empty: treat that as unset. */
function blankAsMissing(value: unknown): unknown {
  return typeof value === "string" && value.trim() === "" ? undefined : value;
}

function requiredMatching(pattern: RegExp, expectation: string) {
  const message = `must be ${expectation}`;
  return z.preprocess(
    blankAsMissing,
    z
      .string({ error: (issue) => (issue.input === undefined ? "is required" : message) })
      .regex(pattern, message),
  );
}

const LAMBDA_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,140}(:[A-Za-z0-9$_-]+)?$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

function optionalMatching(pattern: RegExp, expectation: string) {
  return z.preprocess(blankAsMissing, z.string().regex(pattern, `must be ${expectation}`).optional());
}

function optionalEndpoint() {
  return z.preprocess(
    blankAsMissing,
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  );
}

const envSchema = z.object({
  GANTRY_LEDGER_TABLE: requiredMatching(TABLE_NAME, "a DynamoDB table name"),
  GANTRY_IDEMPOTENCY_TABLE: requiredMatching(TABLE_NAME, "a DynamoDB table name"),
  GANTRY_TOPIC_ARN: requiredMatching(SNS_TOPIC_ARN, "an SNS topic ARN"),
  GANTRY_STAGE: z.preprocess(
    blankAsMissing,
    z.string().regex(STAGE, "must be letters, digits, '-' or '_' (at most 64)").default("dev"),
  ),
  AWS_REGION: requiredMatching(AWS_REGION, "an AWS region such as us-east-1"),
  GANTRY_APPRUNNER_ENDPOINT: optionalEndpoint(),
  GANTRY_ECR_ENDPOINT: optionalEndpoint(),
  GANTRY_DYNAMODB_ENDPOINT: optionalEndpoint(),
  GANTRY_SNS_ENDPOINT: optionalEndpoint(),
  GANTRY_INSPECTOR_ENDPOINT: optionalEndpoint(),
  GANTRY_LOGS_ENDPOINT: optionalEndpoint(),
  GANTRY_SCHEDULER_ENDPOINT: optionalEndpoint(),
  GANTRY_TAGGING_ENDPOINT: optionalEndpoint(),
  // App Runner publishes no API rate limits: Gantry paces its own calls (a token bucket per instance).
  GANTRY_APPRUNNER_MAX_RPS: z.preprocess(
    blankAsMissing,
    z.coerce.number({ error: "must be a number" }).positive("must be a positive number").max(1000).default(5),
  ),
  GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS: z.preprocess(
    blankAsMissing,
    z
      .string()
      .refine(
        (value) => value.split(",").every((role) => IAM_ROLE_ARN.test(role.trim())),
        "must be IAM role ARNs, comma-separated",
      )
      .optional(),
  ),
  // Durable retries (EventBridge Scheduler): set together by infra/recovery.ts.
  GANTRY_RETRY_FUNCTION_ARN: optionalMatching(LAMBDA_ARN, "a Lambda function ARN"),
  GANTRY_RETRY_ROLE_ARN: optionalMatching(IAM_ROLE_ARN, "an IAM role ARN"),
  GANTRY_RETRY_SCHEDULE_GROUP: optionalMatching(/^[0-9a-zA-Z_.-]{1,64}$/, "a schedule group name"),
});

/** Validates `env` without caching; throws one `RuntimeConfigError` listing every problem. */
export function parseRuntimeConfig(env: Env): RuntimeConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) throw new RuntimeConfigError(describeProblems(result.error));
  const vars = result.data;
  const endpoints = withoutUndefined({
    apprunner: vars.GANTRY_APPRUNNER_ENDPOINT,
    ecr: vars.GANTRY_ECR_ENDPOINT,
    dynamodb: vars.GANTRY_DYNAMODB_ENDPOINT,
    sns: vars.GANTRY_SNS_ENDPOINT,
    inspector: vars.GANTRY_INSPECTOR_ENDPOINT,
    logs: vars.GANTRY_LOGS_ENDPOINT,
    scheduler: vars.GANTRY_SCHEDULER_ENDPOINT,
    tagging: vars.GANTRY_TAGGING_ENDPOINT,
  });
  const retry = [
    vars.GANTRY_RETRY_FUNCTION_ARN,
    vars.GANTRY_RETRY_ROLE_ARN,
    vars.GANTRY_RETRY_SCHEDULE_GROUP,
  ];
  if (retry.some(Boolean) && !retry.every(Boolean)) {
    throw new RuntimeConfigError([
      "GANTRY_RETRY_FUNCTION_ARN, GANTRY_RETRY_ROLE_ARN and GANTRY_RETRY_SCHEDULE_GROUP must be set together",
    ]);
  }
  return Object.freeze({
    stage: vars.GANTRY_STAGE,
    region: vars.AWS_REGION,
    ledgerTable: vars.GANTRY_LEDGER_TABLE,
    idempotencyTable: vars.GANTRY_IDEMPOTENCY_TABLE,
    topicArn: vars.GANTRY_TOPIC_ARN,
    endpoints: Object.freeze(endpoints),
    appRunnerMaxRps: vars.GANTRY_APPRUNNER_MAX_RPS,
    ...(vars.GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS
      ? {
          passableRoleArns: Object.freeze(
            vars.GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS.split(",").map((role) => role.trim()),
          ),
        }
      : {}),
    ...(vars.GANTRY_RETRY_FUNCTION_ARN && vars.GANTRY_RETRY_ROLE_ARN && vars.GANTRY_RETRY_SCHEDULE_GROUP
      ? {
          retryScheduler: Object.freeze({
            functionArn: vars.GANTRY_RETRY_FUNCTION_ARN,
            roleArn: vars.GANTRY_RETRY_ROLE_ARN,
            groupName: vars.GANTRY_RETRY_SCHEDULE_GROUP,
          }),
        }
      : {}),
  });
}

// Keyed by the env object itself: `process.env` is one object per process, so this is the
// per-cold-start memo, while tests that pass their own env objects never see each other's config.
let cache = new WeakMap<Env, RuntimeConfig>();

/** The validated configuration, parsed on first use and reused for the life of the process. */
export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const config = parseRuntimeConfig(env);
  cache.set(env, config);
  return config;
}

/** For tests that change `process.env` between cases. */
export function resetRuntimeConfig(): void {
  cache = new WeakMap();
}

/** Our own messages only: the variable name plus what it must be, never the offending value. */
function describeProblems(error: z.ZodError): string[] {
  const problems = error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? "(environment)");
    return `${variable} ${issue.message.startsWith("is ") || issue.message.startsWith("must ") ? issue.message : "is invalid"}`;
  });
  return [...new Set(problems)];
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
