import { afterEach, describe, expect, it, vi } from "vitest";
import {
  loadRuntimeConfig,
  parseRuntimeConfig,
  RuntimeConfigError,
  resetRuntimeConfig,
} from "../src/runtime-config.ts";

const validEnv = {
  GANTRY_LEDGER_TABLE: "gantry-dev-ledger",
  GANTRY_IDEMPOTENCY_TABLE: "gantry-dev-idempotency",
  GANTRY_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:gantry-dev-notifications",
  AWS_REGION: "eu-west-1",
};

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    parseRuntimeConfig(env);
  } catch (error) {
    if (error instanceof RuntimeConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the configuration to be rejected");
}

describe("parseRuntimeConfig", () => {
  it("maps a valid environment, defaulting the stage to dev and leaving endpoints empty", () => {
    expect(parseRuntimeConfig(validEnv)).toEqual({
      stage: "dev",
      region: "eu-west-1",
      ledgerTable: "gantry-dev-ledger",
      idempotencyTable: "gantry-dev-idempotency",
      topicArn: "arn:aws:sns:eu-west-1:123456789012:gantry-dev-notifications",
      endpoints: {},
      appRunnerMaxRps: 5,
    });
  });

  it("reads the App Runner rate limit and the retry scheduler, all three retry settings or none", () => {
    const retry = {
      GANTRY_RETRY_FUNCTION_ARN: "arn:aws:lambda:eu-west-1:123456789012:function:gantry-dev-retry",
      GANTRY_RETRY_ROLE_ARN: "arn:aws:iam::123456789012:role/gantry-dev-scheduler",
      GANTRY_RETRY_SCHEDULE_GROUP: "gantry-dev-retries",
    };
    expect(parseRuntimeConfig({ ...validEnv, ...retry, GANTRY_APPRUNNER_MAX_RPS: "2.5" })).toMatchObject({
      appRunnerMaxRps: 2.5,
      retryScheduler: {
        functionArn: retry.GANTRY_RETRY_FUNCTION_ARN,
        roleArn: retry.GANTRY_RETRY_ROLE_ARN,
        groupName: "gantry-dev-retries",
      },
    });
    expect(problemsOf({ ...validEnv, GANTRY_RETRY_FUNCTION_ARN: retry.GANTRY_RETRY_FUNCTION_ARN })).toEqual([
      "GANTRY_RETRY_FUNCTION_ARN, GANTRY_RETRY_ROLE_ARN and GANTRY_RETRY_SCHEDULE_GROUP must be set together",
    ]);
    expect(problemsOf({ ...validEnv, GANTRY_APPRUNNER_MAX_RPS: "0" })).toEqual([
      "GANTRY_APPRUNNER_MAX_RPS must be a positive number",
    ]);
    expect(problemsOf({ ...validEnv, ...retry, GANTRY_RETRY_ROLE_ARN: "not-an-arn" })).toEqual([
      "GANTRY_RETRY_ROLE_ARN must be an IAM role ARN",
    ]);
  });

  it("reads the roles it may pass to App Runner, which a recreate is checked against before the delete", () => {
    const roles = [
      "arn:aws:iam::123456789012:role/service-role/AppRunnerECRAccessRole",
      "arn:aws:iam::123456789012:role/apprunner/storefront-instance",
    ];
    expect(
      parseRuntimeConfig({ ...validEnv, GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS: roles.join(", ") })
        .passableRoleArns,
    ).toEqual(roles);
    // Unset (the sandbox, the CLI): not checked, rather than refusing every recreate.
    expect(parseRuntimeConfig(validEnv).passableRoleArns).toBeUndefined();
    expect(
      problemsOf({ ...validEnv, GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS: `${roles[0]},storefront` }),
    ).toEqual(["GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS must be IAM role ARNs, comma-separated"]);
  });

  it("reads the stage and the sandbox endpoint overrides", () => {
    const config = parseRuntimeConfig({
      ...validEnv,
      GANTRY_STAGE: "sandbox",
      GANTRY_APPRUNNER_ENDPOINT: "http://127.0.0.1:4566",
      GANTRY_ECR_ENDPOINT: "http://127.0.0.1:4567",
      GANTRY_DYNAMODB_ENDPOINT: "http://localhost:8000",
      GANTRY_SNS_ENDPOINT: "http://127.0.0.1:4568",
      GANTRY_INSPECTOR_ENDPOINT: "https://inspector.local:8443",
      GANTRY_LOGS_ENDPOINT: "http://127.0.0.1:4569",
      GANTRY_TAGGING_ENDPOINT: "http://127.0.0.1:4566",
    });

    expect(config.stage).toBe("sandbox");
    expect(config.endpoints).toEqual({
      apprunner: "http://127.0.0.1:4566",
      ecr: "http://127.0.0.1:4567",
      dynamodb: "http://localhost:8000",
      sns: "http://127.0.0.1:4568",
      inspector: "https://inspector.local:8443",
      logs: "http://127.0.0.1:4569",
      tagging: "http://127.0.0.1:4566",
    });
  });

  it("treats empty variables as unset", () => {
    const config = parseRuntimeConfig({ ...validEnv, GANTRY_STAGE: "", GANTRY_SNS_ENDPOINT: "  " });

    expect(config.stage).toBe("dev");
    expect(config.endpoints).toEqual({});
  });

  it("returns a frozen object", () => {
    const config = parseRuntimeConfig(validEnv);

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.endpoints)).toBe(true);
  });

  it("lists every missing variable in one error", () => {
    expect(problemsOf({ GANTRY_LEDGER_TABLE: "" })).toEqual([
      "GANTRY_LEDGER_TABLE is required",
      "GANTRY_IDEMPOTENCY_TABLE is required",
      "GANTRY_TOPIC_ARN is required",
      "AWS_REGION is required",
    ]);
  });

  it("names malformed variables together with missing ones", () => {
    expect(
      problemsOf({
        ...validEnv,
        GANTRY_IDEMPOTENCY_TABLE: undefined,
        GANTRY_TOPIC_ARN: "gantry-notifications",
        AWS_REGION: "Europe",
        GANTRY_DYNAMODB_ENDPOINT: "localhost:8000",
        GANTRY_LOGS_ENDPOINT: "ftp://127.0.0.1/logs",
      }),
    ).toEqual([
      "GANTRY_IDEMPOTENCY_TABLE is required",
      "GANTRY_TOPIC_ARN must be an SNS topic ARN",
      "AWS_REGION must be an AWS region such as us-east-1",
      "GANTRY_DYNAMODB_ENDPOINT must be an http(s) URL",
      "GANTRY_LOGS_ENDPOINT must be an http(s) URL",
    ]);
  });

  it("never echoes a value, even one that is obviously a secret", () => {
    const secret = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
    let caught: unknown;
    try {
      parseRuntimeConfig({
        ...validEnv,
        GANTRY_TOPIC_ARN: secret,
        GANTRY_SNS_ENDPOINT: `not a url ${secret}`,
      });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(RuntimeConfigError);
    const error = caught as RuntimeConfigError;
    expect(error.name).toBe("RuntimeConfigError");
    expect(error.message).toBe(
      "Invalid Gantry runtime configuration: GANTRY_TOPIC_ARN must be an SNS topic ARN; GANTRY_SNS_ENDPOINT must be an http(s) URL",
    );
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(
      "XXXXSECRET",
    );
  });
});

describe("loadRuntimeConfig", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    resetRuntimeConfig();
  });

  it("parses process.env once per process until reset", () => {
    for (const [key, value] of Object.entries(validEnv)) vi.stubEnv(key, value);

    const first = loadRuntimeConfig();
    vi.stubEnv("GANTRY_LEDGER_TABLE", "changed-after-cold-start");

    expect(loadRuntimeConfig()).toBe(first);
    resetRuntimeConfig();
    expect(loadRuntimeConfig().ledgerTable).toBe("changed-after-cold-start");
  });

  it("keeps separate environments apart", () => {
    const dev = { ...validEnv };
    const prod = { ...validEnv, GANTRY_STAGE: "prod" };

    expect(loadRuntimeConfig(dev).stage).toBe("dev");
    expect(loadRuntimeConfig(prod).stage).toBe("prod");
    expect(loadRuntimeConfig(dev)).toBe(loadRuntimeConfig(dev));
  });

  it("does not cache a failure", () => {
    const env: Record<string, string | undefined> = { ...validEnv, AWS_REGION: undefined };

    expect(() => loadRuntimeConfig(env)).toThrow(RuntimeConfigError);
    env.AWS_REGION = "us-east-1";
    expect(loadRuntimeConfig(env).region).toBe("us-east-1");
  });
});
