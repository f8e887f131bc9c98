import { createHash } from "node:crypto";
import type { Effect } from "@gantry/core";
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

export function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (line: string) => out.push(line), stderr: (line: string) => err.push(line) },
    out,
    err,
  };
}
