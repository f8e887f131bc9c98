/**
 * Contract tests: AWS's own documented events (test/fixtures/aws-events/, see SOURCES.md) must parse
 * into the right domain events, reach exactly the right Gantry rule, and match AWS's documented
 * example patterns where they fit. Mutated events must fail with an EventContractError naming the field.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { DomainEvent } from "@gantry/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventContractError, IgnoredEventError } from "../src/event-contract-error.ts";
import { matchesEventPattern } from "../src/event-pattern.ts";
import { parseAwsEvent } from "../src/index.ts";
import { gantryRules } from "../src/rules.ts";

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/aws-events/", import.meta.url));

type Json = Record<string, unknown>;

function listJson(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listJson(path);
    return entry.name.endsWith(".json") ? [relative(FIXTURES, path)] : [];
  });
}

function load(file: string): Json {
  return JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as Json;
}

const sampleFiles = listJson(FIXTURES)
  .filter((file) => !file.startsWith("patterns/"))
  .sort();

// ---------------------------------------------------------------------------------------------
// Expected domain events, written out by hand from the samples
// ---------------------------------------------------------------------------------------------

const APP_RUNNER_ARN =
  "arn:aws:apprunner:us-east-2:123456789012:service/my-app/8fe1e10304f84fd2b0df550fe98a71fa";
const appRunnerService = {
  serviceArn: APP_RUNNER_ARN,
  serviceName: "my-app",
  serviceId: "8fe1e10304f84fd2b0df550fe98a71fa",
  account: "111122223333",
  region: "us-east-2",
};
const UPDATE_COMPLETED_MESSAGE =
  "Service update completed successfully. New application and configuration is deployed.";
const PLACEHOLDER_MESSAGE =
  "CONSTRUCTED-PLACEHOLDER: real message text not retrieved (see live monitor-ev.html status table)";

interface SampleExpectation {
  rule: (typeof gantryRules)[number]["name"];
  event: DomainEvent;
}

const expected: Record<string, SampleExpectation> = {
  "ecr-image-action-push-success.json": {
    rule: "ecr-image-push",
    event: {
      kind: "image-pushed",
      eventId: "13cde686-328b-6117-af20-0e5566167482",
      account: "123456789012",
      region: "us-west-2",
      time: new Date("2019-11-16T01:54:34Z"),
      repositoryName: "my-repository-name",
      // AWS's sample digest has 60 hex characters: accepted as is.
      digest: "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
      tag: "latest",
    },
  },
  "ecr-image-scan-basic-complete.json": {
    rule: "ecr-basic-scan",
    event: {
      kind: "image-scan-completed",
      eventId: "85fc3613-e913-7fc4-a80c-a3753e4aa9ae",
      account: "123456789012",
      region: "us-east-1",
      time: new Date("2019-10-29T02:36:48Z"),
      scanner: "basic",
      repositoryName: "my-repository-name",
      digest: "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
      tags: [],
      scanStatus: "COMPLETE",
      succeeded: true,
      // Only CRITICAL and MEDIUM are sent; the rest are 0.
      severityCounts: { CRITICAL: 10, HIGH: 0, MEDIUM: 9, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 },
    },
  },
  "inspector2-scan-initial-scan-complete.json": {
    rule: "inspector-enhanced-scan",
    event: {
      kind: "image-scan-completed",
      eventId: "739c0d3c-4f02-85c7-5a88-94a9EXAMPLE",
      account: "123456789012",
      region: "us-east-2",
      time: new Date("2021-12-03T18:03:16Z"),
      scanner: "enhanced",
      // From `arn:aws:ecr:us-east-2:123456789012:repository/amazon/amazon-ecs-sample`.
      repositoryName: "amazon/amazon-ecs-sample",
      digest: "sha256:36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5EXAMPLE",
      tags: ["latest"],
      scanStatus: "INITIAL_SCAN_COMPLETE",
      succeeded: true,
      // TOTAL is not a severity; it is kept apart as reportedTotal.
      severityCounts: { CRITICAL: 7, HIGH: 61, MEDIUM: 62, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 },
      reportedTotal: 158,
    },
  },
  "apprunner-operation-update-service-completed.json": {
    rule: "apprunner-operation-status",
    event: {
      kind: "apprunner-operation-status-changed",
      eventId: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
      time: new Date("2021-04-29T18:43:48Z"),
      ...appRunnerService,
      operationStatus: "UpdateServiceCompletedSuccessfully",
      outcome: "succeeded",
      message: UPDATE_COMPLETED_MESSAGE,
      severity: "INFO",
    },
  },
  "apprunner-operation-update-service-completed.doc-v1.json": {
    rule: "apprunner-operation-status",
    event: {
      kind: "apprunner-operation-status-changed",
      eventId: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
      time: new Date("2021-04-29T18:43:48Z"),
      ...appRunnerService,
      operationStatus: "UpdateServiceCompletedSuccessfully",
      outcome: "succeeded",
      message: UPDATE_COMPLETED_MESSAGE,
      severity: "INFO",
    },
  },
  "apprunner-service-status-change-running.json": {
    rule: "apprunner-service-status",
    event: {
      kind: "apprunner-service-status-changed",
      eventId: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
      time: new Date("2021-04-29T11:54:23Z"),
      ...appRunnerService,
      previousStatus: "OPERATION_IN_PROGRESS",
      currentStatus: "RUNNING",
      message: "Service status is set to RUNNING.",
      severity: "INFO",
    },
  },
  "apprunner-service-status-change-running.doc-v1.json": {
    rule: "apprunner-service-status",
    event: {
      kind: "apprunner-service-status-changed",
      eventId: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
      time: new Date("2021-04-29T11:54:23Z"),
      ...appRunnerService,
      previousStatus: "OPERATION_IN_PROGRESS",
      currentStatus: "RUNNING",
      message: "Service status is set to RUNNING.",
      severity: "INFO",
    },
  },
  "constructed/apprunner-operation-deployment-failed.CONSTRUCTED.json": {
    rule: "apprunner-operation-status",
    event: {
      kind: "apprunner-operation-status-changed",
      eventId: "00000000-0000-4000-8000-000000000001",
      time: new Date("2021-04-29T18:43:48Z"),
      ...appRunnerService,
      operationStatus: "DeploymentFailed",
      outcome: "failed",
      message: PLACEHOLDER_MESSAGE,
      severity: "CONSTRUCTED-PLACEHOLDER",
    },
  },
  "constructed/apprunner-operation-deployment-completed.CONSTRUCTED.json": {
    rule: "apprunner-operation-status",
    event: {
      kind: "apprunner-operation-status-changed",
      eventId: "00000000-0000-4000-8000-000000000002",
      time: new Date("2021-04-29T18:43:48Z"),
      ...appRunnerService,
      operationStatus: "DeploymentCompletedSuccessfully",
      outcome: "succeeded",
      message: PLACEHOLDER_MESSAGE,
      severity: "INFO",
    },
  },
  "constructed/apprunner-service-status-create-failed.CONSTRUCTED.json": {
    rule: "apprunner-service-status",
    event: {
      kind: "apprunner-service-status-changed",
      eventId: "00000000-0000-4000-8000-000000000003",
      time: new Date("2021-04-29T11:54:23Z"),
      ...appRunnerService,
      previousStatus: "OPERATION_IN_PROGRESS",
      currentStatus: "CREATE_FAILED",
      message: "Service status is set to CREATE_FAILED.",
      severity: "CONSTRUCTED-PLACEHOLDER",
    },
  },
};

function matchingRules(event: unknown): string[] {
  return gantryRules.filter((rule) => matchesEventPattern(rule.pattern, event)).map((rule) => rule.name);
}

describe("AWS sample events (test/fixtures/aws-events)", () => {
  it("every sample has an expectation and every expectation a sample", () => {
    expect(sampleFiles).toEqual(Object.keys(expected).sort());
  });

  it.each(sampleFiles)("%s parses into the expected domain event", (file) => {
    expect(parseAwsEvent(load(file))).toStrictEqual(expected[file]?.event);
  });

  it.each(sampleFiles)("%s matches exactly its Gantry rule", (file) => {
    expect(matchingRules(load(file))).toEqual([expected[file]?.rule]);
  });

  it("an ECR image deletion (the push sample as a DELETE) matches no rule and is ignored, not mapped", () => {
    const deletion = load("ecr-image-action-push-success.json");
    (deletion.detail as Json)["action-type"] = "DELETE";
    expect(matchingRules(deletion)).toEqual([]);
    expect(() => parseAwsEvent(deletion)).toThrow(IgnoredEventError);
  });

  it("the v2 doc spelling (operationStatus with PascalCase ServiceName, ServiceId, Message, Severity) parses", () => {
    const v1 = load("apprunner-operation-update-service-completed.doc-v1.json");
    const { Status, ...rest } = v1.detail as Json;
    const v2 = { ...v1, detail: { operationStatus: Status, ...rest } };
    expect(parseAwsEvent(v2)).toStrictEqual(
      expected["apprunner-operation-update-service-completed.doc-v1.json"]?.event,
    );
    expect(matchingRules(v2)).toEqual(["apprunner-operation-status"]);
  });
});

// ---------------------------------------------------------------------------------------------
// AWS's documented example patterns
// ---------------------------------------------------------------------------------------------

/** A sample with some detail fields replaced: for patterns no verbatim sample satisfies. */
function withDetail(file: string, changes: Json): Json {
  const event = load(file);
  return { ...event, detail: { ...(event.detail as Json), ...changes } };
}

const documentedPatterns: {
  pattern: string;
  matches: Record<string, () => Json>;
  doesNotMatch: Record<string, () => Json>;
}[] = [
  {
    pattern: "patterns/apprunner-pattern-operation-status-failed.json",
    matches: {
      "constructed DeploymentFailed": () =>
        load("constructed/apprunner-operation-deployment-failed.CONSTRUCTED.json"),
      "v3 sample as UpdateServiceFailed": () =>
        withDetail("apprunner-operation-update-service-completed.json", {
          operationStatus: "UpdateServiceFailed",
        }),
    },
    doesNotMatch: {
      "v3 update completed": () => load("apprunner-operation-update-service-completed.json"),
      "constructed DeploymentCompletedSuccessfully": () =>
        load("constructed/apprunner-operation-deployment-completed.CONSTRUCTED.json"),
      // The v3 pattern names `operationStatus`: an event spelt `Status` (v1) slips through it.
      "v1 sample as DeploymentFailed": () =>
        withDetail("apprunner-operation-update-service-completed.doc-v1.json", {
          Status: "DeploymentFailed",
        }),
    },
  },
  {
    pattern: "patterns/apprunner-pattern-operation-status-failed.doc-v1.json",
    matches: {
      "v1 sample as DeploymentFailed": () =>
        withDetail("apprunner-operation-update-service-completed.doc-v1.json", {
          Status: "DeploymentFailed",
        }),
    },
    doesNotMatch: {
      "v1 update completed": () => load("apprunner-operation-update-service-completed.doc-v1.json"),
      "constructed DeploymentFailed (v3 spelling)": () =>
        load("constructed/apprunner-operation-deployment-failed.CONSTRUCTED.json"),
    },
  },
  {
    pattern: "patterns/apprunner-pattern-service-left-running.json",
    matches: {
      "v3 sample leaving RUNNING": () =>
        withDetail("apprunner-service-status-change-running.json", {
          previousServiceStatus: "RUNNING",
          currentServiceStatus: "OPERATION_IN_PROGRESS",
        }),
    },
    doesNotMatch: {
      "v3 sample entering RUNNING": () => load("apprunner-service-status-change-running.json"),
      "constructed CREATE_FAILED": () =>
        load("constructed/apprunner-service-status-create-failed.CONSTRUCTED.json"),
    },
  },
  {
    pattern: "patterns/apprunner-pattern-service-left-running.doc-v1.json",
    matches: {
      "v1 sample leaving RUNNING": () =>
        withDetail("apprunner-service-status-change-running.doc-v1.json", {
          PreviousStatus: "RUNNING",
          CurrentStatus: "PAUSED",
        }),
    },
    doesNotMatch: {
      "v1 sample entering RUNNING": () => load("apprunner-service-status-change-running.doc-v1.json"),
    },
  },
  {
    pattern: "patterns/inspector2-scan-pattern.json",
    matches: { "Inspector2 Scan sample": () => load("inspector2-scan-initial-scan-complete.json") },
    doesNotMatch: { "ECR basic scan sample": () => load("ecr-image-scan-basic-complete.json") },
  },
  {
    pattern: "patterns/inspector2-finding-pattern.json",
    matches: {},
    doesNotMatch: { "Inspector2 Scan sample": () => load("inspector2-scan-initial-scan-complete.json") },
  },
];

describe("AWS's documented example patterns (test/fixtures/aws-events/patterns)", () => {
  it("every pattern file is covered", () => {
    expect(listJson(FIXTURES).filter((file) => file.startsWith("patterns/"))).toEqual(
      expect.arrayContaining(documentedPatterns.map((p) => p.pattern)),
    );
    expect(documentedPatterns).toHaveLength(listJson(join(FIXTURES, "patterns")).length);
  });

  for (const { pattern, matches, doesNotMatch } of documentedPatterns) {
    describe(pattern, () => {
      for (const [name, event] of Object.entries(matches)) {
        it(`matches ${name}, which Gantry parses`, () => {
          expect(matchesEventPattern(load(pattern), event())).toBe(true);
          expect(() => parseAwsEvent(event())).not.toThrow();
        });
      }
      for (const [name, event] of Object.entries(doesNotMatch)) {
        it(`does not match ${name}`, () => {
          expect(matchesEventPattern(load(pattern), event())).toBe(false);
        });
      }
    });
  }

  it("a failed operation in any documented spelling parses with outcome failed", () => {
    const v1 = withDetail("apprunner-operation-update-service-completed.doc-v1.json", {
      Status: "DeploymentFailed",
    });
    const v3 = load("constructed/apprunner-operation-deployment-failed.CONSTRUCTED.json");
    for (const event of [v1, v3]) {
      expect(parseAwsEvent(event)).toMatchObject({ operationStatus: "DeploymentFailed", outcome: "failed" });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Mutated events
// ---------------------------------------------------------------------------------------------

type Path = readonly (string | number)[];
const REMOVE = Symbol("remove");

function mutate(event: Json, path: Path, value: unknown | typeof REMOVE): Json {
  const copy = structuredClone(event);
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === REMOVE) delete node[last];
  else node[last] = value;
  return copy;
}

function contractError(raw: unknown): EventContractError {
  try {
    parseAwsEvent(raw);
  } catch (error) {
    if (error instanceof EventContractError) return error;
    throw error;
  }
  throw new Error("expected an EventContractError, but the event parsed");
}

const mutations: { sample: string; path: Path; value: unknown; field: string; message: string }[] = [
  {
    sample: "ecr-image-action-push-success.json",
    path: ["detail", "image-digest"],
    value: REMOVE,
    field: "detail.image-digest",
    message: "ECR Image Action: detail.image-digest: Required",
  },
  {
    sample: "ecr-image-action-push-success.json",
    path: ["detail", "image-digest"],
    value: "md5:7f5b2640fe6fb4f46592dfd3410c4a79",
    field: "detail.image-digest",
    message: "ECR Image Action: detail.image-digest: Expected a digest of the form sha256:<alphanumerics>",
  },
  {
    sample: "ecr-image-action-push-success.json",
    path: ["detail", "image-digest"],
    value: "sha256:",
    field: "detail.image-digest",
    message: "ECR Image Action: detail.image-digest: Expected a digest",
  },
  {
    sample: "ecr-image-action-push-success.json",
    path: ["detail", "repository-name"],
    value: REMOVE,
    field: "detail.repository-name",
    message: "ECR Image Action: detail.repository-name: Required",
  },
  {
    sample: "ecr-image-action-push-success.json",
    path: ["detail", "image-tag"],
    value: 7,
    field: "detail.image-tag",
    message: "ECR Image Action: detail.image-tag: Expected string, received number",
  },
  {
    sample: "ecr-image-action-push-success.json",
    path: ["time"],
    value: "16 Nov 2019",
    field: "time",
    message: "ECR Image Action: time: Expected an ISO-8601 timestamp",
  },
  {
    sample: "ecr-image-action-push-success.json",
    path: ["account"],
    value: 123456789012,
    field: "account",
    message: "ECR Image Action: account: Expected string, received number",
  },
  {
    sample: "ecr-image-scan-basic-complete.json",
    path: ["detail", "finding-severity-counts", "CRITICAL"],
    value: "10",
    field: "detail.finding-severity-counts.CRITICAL",
    message: "ECR Image Scan: detail.finding-severity-counts.CRITICAL: Expected number, received string",
  },
  {
    sample: "ecr-image-scan-basic-complete.json",
    path: ["detail", "finding-severity-counts", "SEVERE"],
    value: 1,
    field: "detail.finding-severity-counts.SEVERE",
    message: "ECR Image Scan: detail.finding-severity-counts.SEVERE: Unrecognized key",
  },
  {
    sample: "ecr-image-scan-basic-complete.json",
    path: ["detail", "finding-severity-counts"],
    value: REMOVE,
    field: "detail.finding-severity-counts",
    message: "ECR Image Scan: detail.finding-severity-counts: Required when scan-status is COMPLETE",
  },
  {
    sample: "ecr-image-scan-basic-complete.json",
    path: ["detail", "image-tags"],
    value: "latest",
    field: "detail.image-tags",
    message: "ECR Image Scan: detail.image-tags: Expected array, received string",
  },
  {
    sample: "ecr-image-scan-basic-complete.json",
    path: ["detail", "repository-name"],
    value: "arn:aws:ecr:us-east-1:123456789012:repository/my-repository-name",
    field: "detail.repository-name",
    message: "ECR Image Scan: detail.repository-name: Expected an ECR repository name",
  },
  {
    sample: "inspector2-scan-initial-scan-complete.json",
    path: ["detail", "repository-name"],
    value: "arn:aws:s3:::amazon-ecs-sample",
    field: "detail.repository-name",
    message: "Inspector2 Scan: detail.repository-name: Expected an ECR repository ARN",
  },
  {
    sample: "inspector2-scan-initial-scan-complete.json",
    path: ["detail", "image-digest"],
    value: "36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5EXAMPLE",
    field: "detail.image-digest",
    message: "Inspector2 Scan: detail.image-digest: Expected a digest",
  },
  {
    sample: "inspector2-scan-initial-scan-complete.json",
    path: ["detail", "finding-severity-counts", "TOTAL"],
    value: -1,
    field: "detail.finding-severity-counts.TOTAL",
    message: "Inspector2 Scan: detail.finding-severity-counts.TOTAL:",
  },
  {
    sample: "apprunner-operation-update-service-completed.json",
    path: ["resources", 0],
    value: "arn:aws:ecs:us-east-2:123456789012:service/my-cluster/my-app",
    field: "resources[0]",
    message: "AppRunner Service Operation Status Change: resources[0]: Expected an App Runner service ARN",
  },
  {
    sample: "apprunner-operation-update-service-completed.json",
    path: ["resources"],
    value: [],
    field: "resources[0]",
    message: "AppRunner Service Operation Status Change: resources[0]: Required",
  },
  {
    sample: "apprunner-operation-update-service-completed.json",
    path: ["detail", "operationStatus"],
    value: REMOVE,
    field: "detail.operationStatus",
    message:
      "AppRunner Service Operation Status Change: detail.operationStatus: Required (accepted spellings: operationStatus, Status",
  },
  {
    sample: "apprunner-operation-update-service-completed.doc-v1.json",
    path: ["detail", "Status"],
    value: 3,
    field: "detail.Status",
    message: "AppRunner Service Operation Status Change: detail.Status: Expected string, received number",
  },
  {
    sample: "apprunner-service-status-change-running.json",
    path: ["detail", "currentServiceStatus"],
    value: REMOVE,
    field: "detail.currentServiceStatus",
    message: "AppRunner Service Status Change: detail.currentServiceStatus: Required",
  },
  {
    sample: "apprunner-service-status-change-running.doc-v1.json",
    path: ["detail", "ServiceName"],
    value: "not-my-app",
    field: "detail.ServiceName",
    message: "AppRunner Service Status Change: detail.ServiceName: Does not match resources[0]",
  },
  {
    sample: "apprunner-service-status-change-running.json",
    path: ["detail"],
    value: "RUNNING",
    field: "detail",
    message: "AppRunner Service Status Change: detail: Expected record, received string",
  },
];

describe("mutated samples raise an EventContractError naming the field", () => {
  it.each(mutations)("$sample with $field = $value", ({ sample, path, value, field, message }) => {
    const error = contractError(mutate(load(sample), path, value));
    expect(error).not.toBeInstanceOf(IgnoredEventError);
    expect(error.field).toBe(field);
    expect(error.message.slice(0, message.length)).toBe(message);
  });

  it.each([
    ["a string", "not an event", "(event)"],
    ["null", null, "(event)"],
    ["an array", [load("ecr-image-action-push-success.json")], "(event)"],
  ])("%s is rejected as a whole", (_name, raw, field) => {
    const error = contractError(raw);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(/Expected an EventBridge event object/);
  });

  it("a known source with an unhandled detail-type says it is not handled", () => {
    const event = {
      ...load("ecr-image-scan-basic-complete.json"),
      "detail-type": "ECR Scan Resource Change",
    };
    const error = contractError(event);
    expect(error).toMatchObject({
      field: "detail-type",
      source: "aws.ecr",
      detailType: "ECR Scan Resource Change",
    });
    expect(error.message).toContain("is not handled by Gantry");
  });

  it("an unknown source says it is not handled", () => {
    const error = contractError({ ...load("ecr-image-scan-basic-complete.json"), source: "aws.s3" });
    expect(error.field).toBe("source");
    expect(error.reason).toContain('"aws.s3" is not handled by Gantry');
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random mutations either parse or raise EventContractError, never anything else
// ---------------------------------------------------------------------------------------------

/** Every path into a JSON value (objects and arrays), root excluded. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => [[...prefix, index], ...pathsOf(item, [...prefix, index])]);
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...pathsOf(item, [...prefix, key]),
    ]);
  }
  return [];
}

const samples = sampleFiles.map(load);
const KINDS = new Set<string>(Object.values(expected).map((e) => e.event.kind));

const replacement = fc.oneof(
  fc.constant<unknown>(REMOVE),
  fc.jsonValue(),
  fc.string(),
  fc.constantFrom<unknown>(
    "",
    "sha256:",
    "sha256:abc",
    "md5:abc",
    "arn:aws:ecs:us-east-1:123456789012:service/x/y",
    "arn:aws:ecr:us-east-1:123456789012:repository/a/b",
    "arn:aws:apprunner:us-east-1:123456789012:service/other/0123",
    "PUSH",
    "DELETE",
    "FAILURE",
    "COMPLETE",
    "FAILED",
    "RUNNING",
    "aws.ecr",
    "aws.inspector2",
    "aws.apprunner",
    "ECR Image Scan",
    "Inspector2 Scan",
    "AppRunner Service Status Change",
    "__proto__",
    "constructor",
    -1,
    1.5,
    null,
    [],
    {},
  ),
);

function mutateAt(event: Json, pick: number, value: unknown): Json {
  const paths = pathsOf(event);
  const path = paths[pick % paths.length];
  return path ? mutate(event, path, value) : event;
}

describe("property: a mutated sample parses or raises EventContractError", () => {
  it("never throws anything else, and a parse yields a domain event", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), replacement), { minLength: 1, maxLength: 3 }),
        (sample, edits) => {
          const event = edits.reduce((acc, [pick, value]) => mutateAt(acc, pick, value), sample);
          try {
            const parsed = parseAwsEvent(event);
            expect(KINDS.has(parsed.kind)).toBe(true);
            expect(Number.isNaN(parsed.time.getTime())).toBe(false);
          } catch (error) {
            expect(error).toBeInstanceOf(EventContractError);
            const { field, message } = error as EventContractError;
            expect(field.length).toBeGreaterThan(0);
            expect(message).toContain(`: ${field}: `);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("arbitrary input never throws anything but EventContractError", () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        expect(() => parseAwsEvent(raw)).toThrow(EventContractError);
      }),
      { numRuns: 300 },
    );
  });
});
