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
