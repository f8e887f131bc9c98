/**
 * Inputs for the bad-input properties: valid samples (AWS's documented events from the fixtures,
 * Gantry's own messages) and a fast-check arbitrary that mutates them the way broken producers,
 * hand-written replays and schema drift do. Lambda hands a handler parsed JSON, so every generated
 * value is JSON (no bigint, no functions, no cycles).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "aws-events");

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), "utf8")) as Record<string, unknown>;
}

export const SERVICE_ARN =
  "arn:aws:apprunner:us-east-1:111122223333:service/storefront/8fe1e10304f84fd2b0df550fe98a71fa";

export const samples = {
  push: fixture("ecr-image-action-push-success.json"),
  basicScan: fixture("ecr-image-scan-basic-complete.json"),
  inspectorScan: fixture("inspector2-scan-initial-scan-complete.json"),
  operation: fixture("apprunner-operation-update-service-completed.json"),
  operationDocV1: fixture("apprunner-operation-update-service-completed.doc-v1.json"),
  serviceStatus: fixture("apprunner-service-status-change-running.json"),
  serviceStatusDocV1: fixture("apprunner-service-status-change-running.doc-v1.json"),
  /** CloudTrail's PauseService record as EventBridge delivers it (shape of cloudtrail-events.ts). */
  pauseCall: {
    version: "0",
    id: "6f1c2f0e-2a7b-4d7e-9a51-3c0c3d7f1a10",
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.apprunner",
    account: "111122223333",
    time: "2026-11-02T09:00:00Z",
    region: "us-east-1",
    resources: [],
    detail: {
      eventSource: "apprunner.amazonaws.com",
      eventName: "PauseService",
      userIdentity: { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/alice" },
      requestParameters: { serviceArn: SERVICE_ARN },
    },
  } as Record<string, unknown>,
  retryJob: {
    kind: "redeploy",
    serviceArn: SERVICE_ARN,
    digest: "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
    attempt: 2,
  } as Record<string, unknown>,
};

export const notificationText = JSON.stringify({
  schemaVersion: 1,
  kind: "block",
  level: "warning",
  service: "storefront",
  serviceArn: SERVICE_ARN,
  digest: "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
  reasons: ["1 CRITICAL finding (allowed: 0)"],
  message: "blocked by policy default",
  at: "2026-11-02T09:00:00.000Z",
});

export const snsEvent = {
  Records: [
    {
      EventSource: "aws:sns",
      EventSubscriptionArn: "arn:aws:sns:us-east-1:111122223333:gantry-notifications:1",
      Sns: {
        MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        TopicArn: "arn:aws:sns:us-east-1:111122223333:gantry-notifications",
        Message: notificationText,
        Timestamp: "2026-11-02T09:00:00.000Z",
        MessageAttributes: { kind: { Type: "String", Value: "block" } },
      },
    },
  ],
};

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value))
    return [prefix, ...value.flatMap((item, index) => paths(item, [...prefix, index]))];
  if (value && typeof value === "object")
    return [prefix, ...Object.entries(value).flatMap(([key, item]) => paths(item, [...prefix, key]))];
  return [prefix];
}

type Operation =
  | "delete"
  | "replace"
  | "null"
  | "wrap-in-array"
  | "stringify"
  | "number"
  | "empty-string"
  | "huge-string"
  | "add-key"
  | "upper-case-key";

const OPERATIONS: Operation[] = [
  "delete",
  "replace",
  "null",
  "wrap-in-array",
  "stringify",
  "number",
  "empty-string",
  "huge-string",
  "add-key",
  "upper-case-key",
];

/** Keys that have broken naive parsers before: prototype names, AWS's other spellings, blanks. */
const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "", "Status", "serviceName", "detail", "id"];

function apply(
  root: unknown,
  step: { path: Path; operation: Operation; value: unknown; key: string },
): unknown {
  if (step.path.length === 0) {
    if (step.operation === "replace" || step.operation === "null")
      return step.operation === "null" ? null : step.value;
    if (step.operation === "wrap-in-array") return [root];
    if (step.operation === "stringify") return JSON.stringify(root);
  }
  let parent: unknown = root;
  for (const part of step.path.slice(0, -1)) {
    if (!parent || typeof parent !== "object") return root;
    parent = (parent as Record<string | number, unknown>)[part];
  }
  if (!parent || typeof parent !== "object") return root;
  const container = parent as Record<string | number, unknown>;
  const last = step.path.at(-1) as string | number;
  if (!Object.hasOwn(container, last)) return root;
  const current = container[last];
  switch (step.operation) {
    case "delete":
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
      break;
    case "replace":
      container[last] = step.value;
      break;
    case "null":
      container[last] = null;
      break;
    case "wrap-in-array":
      container[last] = [current];
      break;
    case "stringify":
      container[last] = JSON.stringify(current);
      break;
    case "number":
      container[last] = typeof current === "string" ? current.length : -1;
      break;
    case "empty-string":
      container[last] = "";
      break;
    case "huge-string":
      container[last] = "x".repeat(100_000);
      break;
    case "add-key":
      if (current && typeof current === "object" && !Array.isArray(current))
        Object.defineProperty(current, step.key, {
          value: step.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      break;
    case "upper-case-key":
      if (typeof last === "string" && !Array.isArray(container)) {
        delete container[last];
        container[last.toUpperCase() === last ? last.toLowerCase() : last.toUpperCase()] = current;
      }
      break;
  }
  return root;
}

/** 1–4 mutations of a deep copy of `sample`; JSON round-tripped, as Lambda would deliver it. */
export function mutated(sample: unknown): fc.Arbitrary<unknown> {
  const all = paths(sample);
  const step = fc.record({
    path: fc.constantFrom(...all),
    operation: fc.constantFrom(...OPERATIONS),
    value: fc.jsonValue({ maxDepth: 2 }),
    key: fc.constantFrom(...HOSTILE_KEYS),
  });
  return fc.array(step, { minLength: 1, maxLength: 4 }).map((steps) => {
    let value: unknown = structuredClone(sample);
    for (const each of steps) value = apply(value, each);
    return JSON.parse(JSON.stringify(value) ?? "null") as unknown;
  });
}

/** Anything JSON, including the odd shapes (deep nesting, empty keys, unicode). */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 6 });
