import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { deployedConfigItem, type Effect, parseGantryConfig } from "@gantry/core";
import {
  type EventBridgeEvent,
  ecrImagePushEvent,
  ecrImageScanEvent,
  inspectorScanEvent,
} from "@gantry/events";
import { parseScenario, replayScenario, type Sandbox, type ScenarioInput } from "@gantry/local";
import { inject } from "vitest";

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const T0 = new Date("2026-11-02T09:00:00Z");

export const digest = (name: string) => `sha256:${createHash("sha256").update(name).digest("hex")}`;

type Counts = Record<string, number>;

export const push = (repositoryName: string, imageDigest: string, tag?: string): EventBridgeEvent =>
  ecrImagePushEvent({
    account: ACCOUNT,
    region: REGION,
    repositoryName,
    digest: imageDigest,
    time: T0,
    ...(tag ? { tag } : {}),
  });

export const basicScan = (
  repositoryName: string,
  imageDigest: string,
  severityCounts: Counts = {},
  status?: string,
): EventBridgeEvent =>
  ecrImageScanEvent({
    account: ACCOUNT,
    region: REGION,
    repositoryName,
    digest: imageDigest,
    tags: [],
    time: T0,
    severityCounts,
    ...(status ? { status } : {}),
  });

export const enhancedScan = (
  repositoryName: string,
  imageDigest: string,
  severityCounts: Counts = {},
): EventBridgeEvent =>
  inspectorScanEvent({
    account: ACCOUNT,
    region: REGION,
    repositoryName,
    digest: imageDigest,
    tags: [],
    time: T0,
    severityCounts,
  });

/** Runs a scenario against the suite's DynamoDB Local; always stops the sandbox. */
export async function replay(
  /** Events may be typed EventBridge events; parseScenario validates the whole thing. */
  scenario: Omit<ScenarioInput, "events"> & { events?: readonly unknown[] },
  config?: unknown,
  inspect?: (sandbox: Sandbox) => Promise<void> | void,
): Promise<Effect[]> {
  const { effects, sandbox } = await replayScenario(parseScenario(scenario), {
    dynamodbEndpoint: inject("dynamodbEndpoint"),
    ...(config !== undefined ? { config } : {}),
  });
  try {
    await inspect?.(sandbox);
    return effects;
  } finally {
    await sandbox.stop();
  }
}

export const ofType = (effects: Effect[], type: Effect["type"]) =>
  effects.filter((effect) => effect.type === type);

/** The UpdateService calls the emulator answered, with their inputs. */
export function updateServiceCalls(sandbox: Sandbox) {
  return sandbox.appRunner.calls.filter((call) => call.op === "UpdateService" && !call.error);
}

/** Real time, to the second: a sandbox standing in for a stage the CLI acts on starts here. */
export const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);

/** The event as it happens at `NOW` (the CLI judges scans by their age on the system clock). */
export const now = (event: EventBridgeEvent): EventBridgeEvent => ({
  ...event,
  time: NOW.toISOString().replace(/\.\d{3}Z$/, "Z"),
});

/** Who the CLI's STS stand-in says is calling (sts:GetCallerIdentity). */
export const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/PlatformOps/alice@example.com`;

/**
 * A stand-in for STS that answers GetCallerIdentity (awsQuery, XML) as AWS documents it, so the
 * CLI's real STS client is exercised: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
export async function startStsStandIn(
  arn = CALLER_ARN,
): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (!new URLSearchParams(body).get("Action")?.includes("GetCallerIdentity")) {
        response.writeHead(400, { "content-type": "text/xml" });
        response.end("<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>");
        return;
      }
      response.writeHead(200, { "content-type": "text/xml" });
      response.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${arn}</Arn><UserId>AROAEXAMPLE:alice</UserId><Account>${ACCOUNT}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const address = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () => new Promise((done) => server.close(() => done())),
  };
}

/** Points the CLI's ledger commands at `sandbox`, as a platform engineer's shell would at a stage. */
export function pointCliAt(sandbox: Sandbox): () => void {
  const saved = { ...process.env };
  const { runtime } = sandbox;
  Object.assign(process.env, {
    AWS_REGION: runtime.region,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    GANTRY_STAGE: runtime.stage,
    GANTRY_LEDGER_TABLE: runtime.ledgerTable,
    GANTRY_IDEMPOTENCY_TABLE: runtime.idempotencyTable,
    GANTRY_TOPIC_ARN: runtime.topicArn,
    GANTRY_APPRUNNER_ENDPOINT: runtime.endpoints.apprunner,
    GANTRY_ECR_ENDPOINT: runtime.endpoints.ecr,
    GANTRY_INSPECTOR_ENDPOINT: runtime.endpoints.inspector,
    GANTRY_DYNAMODB_ENDPOINT: runtime.endpoints.dynamodb,
    GANTRY_SNS_ENDPOINT: runtime.endpoints.sns,
    GANTRY_LOGS_ENDPOINT: runtime.endpoints.logs,
  });
  return () => {
    process.env = saved;
  };
}

/**
 * `pointCliAt`, plus everything else the CLI gets from a deployed stage: the retry function and
 * scheduler role of its `cliEnvironment` output, the Gantry config `sst deploy` published in the
 * ledger table (the sandbox's own unless `deployedConfig` is given, none with `publishConfig:
 * false`), and an STS that says who is calling.
 */
export async function pointCliAtStage(
  sandbox: Sandbox,
  options: { deployedConfig?: unknown; callerArn?: string; publishConfig?: boolean } = {},
): Promise<() => Promise<void>> {
  const { runtime } = sandbox;
  const sts = await startStsStandIn(options.callerArn);
  if (options.publishConfig !== false) {
    const client = new DynamoDBClient({
      region: runtime.region,
      endpoint: runtime.endpoints.dynamodb,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    await DynamoDBDocumentClient.from(client).send(
      new PutCommand({
        TableName: runtime.ledgerTable,
        Item: deployedConfigItem(parseGantryConfig(options.deployedConfig ?? sandbox.config), "e2e000000000"),
      }),
    );
    client.destroy();
  }
  const restore = pointCliAt(sandbox);
  Object.assign(process.env, {
    GANTRY_RETRY_FUNCTION_ARN: `arn:aws:lambda:${runtime.region}:${ACCOUNT}:function:gantry-${runtime.stage}-retry`,
    GANTRY_RETRY_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/gantry-${runtime.stage}-retry-scheduler`,
    GANTRY_RETRY_SCHEDULE_GROUP: `gantry-${runtime.stage}-retries`,
    // No scheduler answers here: a retry the CLI had to schedule would fail the test loudly.
    GANTRY_SCHEDULER_ENDPOINT: "http://127.0.0.1:9",
    GANTRY_STS_ENDPOINT: sts.endpoint,
  });
  return async () => {
    restore();
    await sts.stop();
  };
}

export function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (line: string) => out.push(line), stderr: (line: string) => err.push(line) },
    out,
    err,
  };
}
