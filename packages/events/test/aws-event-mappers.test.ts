/**
 * The mappers' rules, one at a time (FACTS §1, §2), and the builders' round trip through parseAwsEvent.
 * Events are built with the builders so each test states only the fields it is about.
 */
import { SEVERITIES, type SeverityCounts } from "@gantry/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appRunnerOperationStatusEvent,
  appRunnerServiceStatusEvent,
  ecrImagePushEvent,
  ecrImageScanEvent,
  inspectorScanEvent,
} from "../src/aws-event-builders.ts";
import {
  handledAwsEventTypes,
  operationOutcome,
  parseAppRunnerOperationStatusEvent,
  parseAppRunnerServiceStatusEvent,
  parseAwsEvent,
  parseEcrImagePushEvent,
  parseEcrImageScanEvent,
  parseInspectorScanEvent,
} from "../src/aws-event-mappers.ts";
import { EventContractError, IgnoredEventError } from "../src/event-contract-error.ts";
import { gantryRules } from "../src/rules.ts";

type Json = Record<string, unknown>;

const base = { account: "123456789012", region: "eu-west-1", time: "2024-05-01T10:00:00Z" };
const DIGEST = `sha256:${"ab".repeat(32)}`;
const SERVICE = { serviceName: "checkout", serviceId: "0123456789abcdef0123456789abcdef" };
const SERVICE_ARN = `arn:aws:apprunner:eu-west-1:123456789012:service/checkout/${SERVICE.serviceId}`;

function detailOf(event: unknown): Json {
  return (event as { detail: Json }).detail;
}

function withDetail<E>(event: E, detail: Json): E {
  return { ...event, detail } as E;
}

function rejection(parse: () => unknown): EventContractError {
  try {
    parse();
  } catch (error) {
    if (error instanceof EventContractError) return error;
    throw error;
  }
  throw new Error("expected an EventContractError, but the event parsed");
}

const zeroCounts: SeverityCounts = {
  CRITICAL: 0,
  HIGH: 0,
  MEDIUM: 0,
  LOW: 0,
  INFORMATIONAL: 0,
  UNDEFINED: 0,
};

describe("ECR Image Action", () => {
  it("maps a tagged push", () => {
    const event = ecrImagePushEvent({
      ...base,
      id: "e-1",
      repositoryName: "team/api",
      digest: DIGEST,
      tag: "v1.2.3",
    });
    expect(parseEcrImagePushEvent(event)).toStrictEqual({
      kind: "image-pushed",
      eventId: "e-1",
      account: "123456789012",
      region: "eu-west-1",
      time: new Date("2024-05-01T10:00:00Z"),
      repositoryName: "team/api",
      digest: DIGEST,
      tag: "v1.2.3",
    });
  });

  it("maps an untagged push without a tag property", () => {
    const event = ecrImagePushEvent({ ...base, repositoryName: "api", digest: DIGEST });
    expect(detailOf(event)).not.toHaveProperty("image-tag");
    const pushed = parseEcrImagePushEvent(event);
    expect(pushed).not.toHaveProperty("tag");
    expect(pushed.digest).toBe(DIGEST);
  });

  it("keeps unknown detail fields out of the way (AWS adds fields over time)", () => {
    const event = ecrImagePushEvent({ ...base, repositoryName: "api", digest: DIGEST, tag: "x" });
    const extended = withDetail(event, {
      ...detailOf(event),
      "manifest-media-type": "application/vnd.oci.image.manifest.v1+json",
    });
    expect(parseAwsEvent(extended)).toMatchObject({ kind: "image-pushed", tag: "x" });
  });

  it.each([
    ["DELETE", "SUCCESS", "detail.action-type"],
    ["PUSH", "FAILURE", "detail.result"],
    ["REPLICATE", "SUCCESS", "detail.action-type"],
  ])("ignores action-type %s / result %s with IgnoredEventError on %s", (actionType, result, field) => {
    const event = ecrImagePushEvent({ ...base, repositoryName: "api", digest: DIGEST });
    const other = withDetail(event, { ...detailOf(event), "action-type": actionType, result });
    const error = rejection(() => parseAwsEvent(other));
    expect(error).toBeInstanceOf(IgnoredEventError);
    expect(error.field).toBe(field);
    expect(error.message).toContain("Not a successful push");
    expect(error.message).toContain(`action-type ${actionType}, result ${result}`);
  });

  it("ignores a deletion even without a digest, but a push without one is a contract error", () => {
    const event = ecrImagePushEvent({ ...base, repositoryName: "api", digest: DIGEST });
    const { "image-digest": _digest, ...noDigest } = detailOf(event);
    expect(() => parseAwsEvent(withDetail(event, { ...noDigest, "action-type": "DELETE" }))).toThrow(
      IgnoredEventError,
    );
    const error = rejection(() => parseAwsEvent(withDetail(event, noDigest)));
    expect(error).not.toBeInstanceOf(IgnoredEventError);
    expect(error.message).toBe("ECR Image Action: detail.image-digest: Required");
  });

  it.each([
    ["sha256:abc123EXAMPLE", true],
    [`sha256:${"f".repeat(60)}`, true],
    ["sha256:", false],
    ["sha512:abc", false],
    ["sha256:abc-def", false],
    [`SHA256:${"f".repeat(64)}`, false],
    ["abc", false],
  ])("digest %s accepted: %s", (digest, accepted) => {
    const event = ecrImagePushEvent({ ...base, repositoryName: "api", digest });
    if (accepted) expect(parseAwsEvent(event)).toMatchObject({ digest });
    else expect(rejection(() => parseAwsEvent(event)).field).toBe("detail.image-digest");
  });
});

describe("ECR Image Scan (basic)", () => {
  it("fills severities that ECR left out with 0", () => {
    const event = ecrImageScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: { HIGH: 2 },
    });
    expect(detailOf(event)["finding-severity-counts"]).toStrictEqual({ HIGH: 2 });
    expect(parseEcrImageScanEvent(event).severityCounts).toStrictEqual({ ...zeroCounts, HIGH: 2 });
  });

  it("reads every ECR severity key", () => {
    const counts: SeverityCounts = {
      CRITICAL: 1,
      HIGH: 2,
      MEDIUM: 3,
      LOW: 4,
      INFORMATIONAL: 5,
      UNDEFINED: 6,
    };
    const event = ecrImageScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: counts,
    });
    expect(parseEcrImageScanEvent(event).severityCounts).toStrictEqual(counts);
  });

  it("a COMPLETE scan with no findings has an empty counts object and all zeros", () => {
    const event = ecrImageScanEvent({ ...base, repositoryName: "api", digest: DIGEST, severityCounts: {} });
    expect(detailOf(event)["finding-severity-counts"]).toStrictEqual({});
    expect(parseEcrImageScanEvent(event)).toMatchObject({ succeeded: true, severityCounts: zeroCounts });
  });

  it("a FAILED scan without counts is not succeeded and keeps the verbatim status", () => {
    const event = ecrImageScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: {},
      status: "FAILED",
    });
    expect(detailOf(event)).not.toHaveProperty("finding-severity-counts");
    expect(parseEcrImageScanEvent(event)).toMatchObject({
      scanner: "basic",
      scanStatus: "FAILED",
      succeeded: false,
      severityCounts: zeroCounts,
    });
  });

  it.each([
    ["COMPLETE", true],
    ["FAILED", false],
    ["UNSUPPORTED_IMAGE", false],
    ["IN_PROGRESS", false],
    ["INITIAL_SCAN_COMPLETE", false],
  ])("scan-status %s → succeeded %s", (status, succeeded) => {
    const event = ecrImageScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: { LOW: 1 },
      status,
    });
    expect(parseEcrImageScanEvent(event)).toMatchObject({ scanStatus: status, succeeded });
  });

  it("keeps the image tags and tolerates a missing image-tags key", () => {
    const event = ecrImageScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      tags: ["a", "b"],
      severityCounts: {},
    });
    expect(parseEcrImageScanEvent(event).tags).toStrictEqual(["a", "b"]);
    const { "image-tags": _tags, ...noTags } = detailOf(event);
    expect(parseEcrImageScanEvent(withDetail(event, noTags)).tags).toStrictEqual([]);
  });

  it("rejects Inspector's TOTAL key, which ECR never sends", () => {
    const event = ecrImageScanEvent({ ...base, repositoryName: "api", digest: DIGEST, severityCounts: {} });
    const withTotal = withDetail(event, { ...detailOf(event), "finding-severity-counts": { TOTAL: 3 } });
    expect(rejection(() => parseAwsEvent(withTotal)).field).toBe("detail.finding-severity-counts.TOTAL");
  });
});

describe("Inspector2 Scan (enhanced)", () => {
  it("maps the repository ARN to the plain name, drops TOTAL from the counts and keeps it apart", () => {
    const event = inspectorScanEvent({
      ...base,
      repositoryName: "platform/team/api",
      digest: DIGEST,
      tags: ["v2"],
      severityCounts: { CRITICAL: 1, LOW: 4 },
    });
    expect(detailOf(event)["repository-name"]).toBe(
      "arn:aws:ecr:eu-west-1:123456789012:repository/platform/team/api",
    );
    expect(detailOf(event)["finding-severity-counts"]).toStrictEqual({ CRITICAL: 1, LOW: 4, TOTAL: 5 });
    expect(parseInspectorScanEvent(event)).toStrictEqual({
      kind: "image-scan-completed",
      eventId: (event as { id: string }).id,
      account: "123456789012",
      region: "eu-west-1",
      time: new Date("2024-05-01T10:00:00Z"),
      scanner: "enhanced",
      repositoryName: "platform/team/api",
      digest: DIGEST,
      tags: ["v2"],
      scanStatus: "INITIAL_SCAN_COMPLETE",
      succeeded: true,
      severityCounts: { ...zeroCounts, CRITICAL: 1, LOW: 4 },
      reportedTotal: 5,
    });
  });

  it("reports a TOTAL larger than the listed severities as it is (AWS's sample has 158 vs 130)", () => {
    const event = inspectorScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: { HIGH: 1 },
      total: 9,
    });
    expect(parseInspectorScanEvent(event)).toMatchObject({
      reportedTotal: 9,
      severityCounts: { ...zeroCounts, HIGH: 1 },
    });
  });

  it("counts Inspector's UNTRIAGED as UNDEFINED", () => {
    const event = inspectorScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: { UNDEFINED: 1 },
    });
    const untriaged = withDetail(event, {
      ...detailOf(event),
      "finding-severity-counts": { UNTRIAGED: 2, UNDEFINED: 1, TOTAL: 3 },
    });
    expect(parseInspectorScanEvent(untriaged).severityCounts).toStrictEqual({ ...zeroCounts, UNDEFINED: 3 });
  });

  it("accepts a plain repository name and ARNs of other partitions", () => {
    const event = inspectorScanEvent({ ...base, repositoryName: "api", digest: DIGEST, severityCounts: {} });
    for (const [name, expected] of [
      ["api", "api"],
      ["arn:aws-cn:ecr:cn-north-1:123456789012:repository/ns/api", "ns/api"],
      ["arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/api", "api"],
    ]) {
      const renamed = withDetail(event, { ...detailOf(event), "repository-name": name });
      expect(parseInspectorScanEvent(renamed).repositoryName).toBe(expected);
    }
  });

  it.each([
    "arn:aws:ecr:us-east-2:123456789012:repository/",
    "arn:aws:ecr:us-east-2:123456789012:registry/api",
    "arn:aws:ecr-public::123456789012:repository/api",
    "Amazon/API",
    "",
  ])("rejects repository-name %j", (name) => {
    const event = inspectorScanEvent({ ...base, repositoryName: "api", digest: DIGEST, severityCounts: {} });
    const renamed = withDetail(event, { ...detailOf(event), "repository-name": name });
    expect(rejection(() => parseInspectorScanEvent(renamed)).field).toBe("detail.repository-name");
  });

  it.each([
    ["INITIAL_SCAN_COMPLETE", true],
    ["COMPLETE", false],
    ["FAILED", false],
    ["UNSUPPORTED_IMAGE", false],
    ["SCAN_ELIGIBILITY_EXPIRED", false],
  ])("scan-status %s → succeeded %s", (status, succeeded) => {
    const event = inspectorScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: {},
      status,
    });
    expect(parseInspectorScanEvent(event)).toMatchObject({ scanStatus: status, succeeded });
  });

  it("a successful scan must carry counts; an unsuccessful one may not", () => {
    const event = inspectorScanEvent({ ...base, repositoryName: "api", digest: DIGEST, severityCounts: {} });
    const { "finding-severity-counts": _counts, ...noCounts } = detailOf(event);
    const error = rejection(() => parseInspectorScanEvent(withDetail(event, noCounts)));
    expect(error.field).toBe("detail.finding-severity-counts");
    const failed = withDetail(event, { ...noCounts, "scan-status": "FAILED" });
    expect(parseInspectorScanEvent(failed)).toMatchObject({ succeeded: false, severityCounts: zeroCounts });
    expect(parseInspectorScanEvent(failed)).not.toHaveProperty("reportedTotal");
  });
});

describe("App Runner events: tolerant detail keys", () => {
  const operation = appRunnerOperationStatusEvent({
    ...base,
    ...SERVICE,
    operationStatus: "DeploymentFailed",
    message: "Deployment failed.",
  });
  const status = appRunnerServiceStatusEvent({
    ...base,
    ...SERVICE,
    previousStatus: "OPERATION_IN_PROGRESS",
    currentStatus: "CREATE_FAILED",
  });

  const operationSpellings: Record<string, Json> = {
    "v3 camelCase": {
      operationStatus: "DeploymentFailed",
      serviceName: "checkout",
      serviceId: SERVICE.serviceId,
      message: "m",
      severity: "ERROR",
    },
    "v2 mixed": {
      operationStatus: "DeploymentFailed",
      ServiceName: "checkout",
      ServiceId: SERVICE.serviceId,
      Message: "m",
      Severity: "ERROR",
    },
    "v1 PascalCase": {
      Status: "DeploymentFailed",
      ServiceName: "checkout",
      ServiceId: SERVICE.serviceId,
      Message: "m",
      Severity: "ERROR",
    },
    "any letter case": {
      OPERATIONSTATUS: "DeploymentFailed",
      servicename: "checkout",
      SERVICEID: SERVICE.serviceId,
      MESSAGE: "m",
      sEvErItY: "ERROR",
    },
  };

  it.each(Object.entries(operationSpellings))("operation status, %s", (_name, detail) => {
    expect(parseAppRunnerOperationStatusEvent(withDetail(operation, detail))).toStrictEqual({
      kind: "apprunner-operation-status-changed",
      eventId: (operation as { id: string }).id,
      account: "123456789012",
      region: "eu-west-1",
      time: new Date("2024-05-01T10:00:00Z"),
      serviceArn: SERVICE_ARN,
      serviceName: "checkout",
      serviceId: SERVICE.serviceId,
      operationStatus: "DeploymentFailed",
      outcome: "failed",
      message: "m",
      severity: "ERROR",
    });
  });

  const statusSpellings: Record<string, Json> = {
    "v3 camelCase": {
      previousServiceStatus: "RUNNING",
      currentServiceStatus: "PAUSED",
      serviceName: "checkout",
    },
    "v3 reference section": {
      previousStatus: "RUNNING",
      currentStatus: "PAUSED",
      serviceId: SERVICE.serviceId,
    },
    "v1 PascalCase": { PreviousStatus: "RUNNING", CurrentStatus: "PAUSED", ServiceName: "checkout" },
    "any letter case": { PREVIOUSSERVICESTATUS: "RUNNING", currentstatus: "PAUSED" },
  };

  it.each(Object.entries(statusSpellings))(
    "service status, %s (name/id from the ARN when absent)",
    (_name, detail) => {
      expect(parseAppRunnerServiceStatusEvent(withDetail(status, detail))).toStrictEqual({
        kind: "apprunner-service-status-changed",
        eventId: (status as { id: string }).id,
        account: "123456789012",
        region: "eu-west-1",
        time: new Date("2024-05-01T10:00:00Z"),
        serviceArn: SERVICE_ARN,
        serviceName: "checkout",
        serviceId: SERVICE.serviceId,
        previousStatus: "RUNNING",
        currentStatus: "PAUSED",
      });
    },
  );

  it("previous status, message and severity are optional", () => {
    const parsed = parseAppRunnerServiceStatusEvent(withDetail(status, { currentServiceStatus: "DELETED" }));
    expect(parsed.currentStatus).toBe("DELETED");
    expect(parsed).not.toHaveProperty("previousStatus");
    expect(parsed).not.toHaveProperty("message");
    expect(parsed).not.toHaveProperty("severity");
  });

  it("the same value under two spellings is fine; different values are a contradiction", () => {
    const same = withDetail(operation, { Status: "DeploymentFailed", operationStatus: "DeploymentFailed" });
    expect(parseAppRunnerOperationStatusEvent(same).operationStatus).toBe("DeploymentFailed");
    const different = withDetail(operation, {
      Status: "DeploymentFailed",
      operationStatus: "UpdateServiceFailed",
    });
    const error = rejection(() => parseAppRunnerOperationStatusEvent(different));
    expect(error.field).toBe("detail.operationStatus");
    expect(error.reason).toContain("Conflicts with Status");
  });

  it("a detail name or id that contradicts resources[0] is rejected", () => {
    const wrongId = withDetail(operation, { operationStatus: "DeploymentFailed", serviceId: "ffff" });
    expect(rejection(() => parseAppRunnerOperationStatusEvent(wrongId)).field).toBe("detail.serviceId");
  });

  it("an ARN without the id needs the id in the detail", () => {
    const shortArn = { ...status, resources: ["arn:aws:apprunner:eu-west-1:123456789012:service/checkout"] };
    const withId = withDetail(shortArn, { currentServiceStatus: "RUNNING", ServiceId: "abc123" });
    expect(parseAppRunnerServiceStatusEvent(withId)).toMatchObject({
      serviceArn: "arn:aws:apprunner:eu-west-1:123456789012:service/checkout",
      serviceName: "checkout",
      serviceId: "abc123",
    });
    const error = rejection(() =>
      parseAppRunnerServiceStatusEvent(withDetail(shortArn, { currentServiceStatus: "RUNNING" })),
    );
    expect(error.field).toBe("detail.serviceId");
    expect(error.reason).toContain("neither the detail nor resources[0]");
  });

  it.each([
    "arn:aws:ecs:eu-west-1:123456789012:service/cluster/checkout",
    "arn:aws:apprunner:eu-west-1:123456789012:connection/github/abc",
    "arn:aws:apprunner:eu-west-1:123:service/checkout/abc",
    "checkout",
  ])("resources[0] %s is not an App Runner service ARN", (arn) => {
    const error = rejection(() => parseAppRunnerServiceStatusEvent({ ...status, resources: [arn] }));
    expect(error.field).toBe("resources[0]");
  });
});

describe("operationOutcome", () => {
  it.each([
    ["UpdateServiceCompletedSuccessfully", "succeeded"],
    ["DeploymentCompletedSuccessfully", "succeeded"],
    ["PauseServiceCompletedSuccessfully", "succeeded"],
    ["CreateServiceFailed", "failed"],
    ["DeleteServiceFailed", "failed"],
    ["UpdateServiceFailed", "failed"],
    ["DeploymentFailed", "failed"],
    ["PauseServiceFailed", "failed"],
    ["ResumeServiceFailed", "failed"],
    ["DeploymentStarted", "started"],
    ["CreateServiceStarted", "started"],
    ["RollbackSucceeded", "unknown"],
    ["", "unknown"],
  ] as const)("%s → %s", (code, outcome) => {
    expect(operationOutcome(code)).toBe(outcome);
    const event = appRunnerOperationStatusEvent({ ...base, ...SERVICE, operationStatus: code || "X" });
    if (code) expect(parseAwsEvent(event)).toMatchObject({ operationStatus: code, outcome });
  });
});

describe("dispatch", () => {
  it("handles exactly the source / detail-type pairs the Gantry rules subscribe to", () => {
    const fromRules = gantryRules.flatMap((rule) =>
      rule.pattern.source.flatMap((source) => rule.pattern["detail-type"].map((type) => `${source} ${type}`)),
    );
    const handled = Object.entries(handledAwsEventTypes).flatMap(([source, types]) =>
      types.map((t) => `${source} ${t}`),
    );
    expect(handled.sort()).toEqual(fromRules.sort());
  });

  it("each per-type parser rejects another type on source or detail-type", () => {
    const push = ecrImagePushEvent({ ...base, repositoryName: "api", digest: DIGEST });
    const scan = ecrImageScanEvent({ ...base, repositoryName: "api", digest: DIGEST, severityCounts: {} });
    const inspector = inspectorScanEvent({
      ...base,
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: {},
    });
    const operation = appRunnerOperationStatusEvent({
      ...base,
      ...SERVICE,
      operationStatus: "DeploymentFailed",
    });
    const status = appRunnerServiceStatusEvent({
      ...base,
      ...SERVICE,
      previousStatus: "RUNNING",
      currentStatus: "PAUSED",
    });
    expect(rejection(() => parseEcrImagePushEvent(scan)).field).toBe("detail-type");
    expect(rejection(() => parseEcrImageScanEvent(inspector)).field).toBe("source");
    expect(rejection(() => parseInspectorScanEvent(scan)).field).toBe("source");
    expect(rejection(() => parseAppRunnerOperationStatusEvent(status)).field).toBe("detail-type");
    expect(rejection(() => parseAppRunnerServiceStatusEvent(push)).field).toBe("source");
    expect(rejection(() => parseAppRunnerServiceStatusEvent(operation)).field).toBe("detail-type");
  });

  it("names the source and detail-type on the error", () => {
    const event = ecrImagePushEvent({ ...base, repositoryName: "API", digest: DIGEST });
    expect(rejection(() => parseAwsEvent(event))).toMatchObject({
      source: "aws.ecr",
      detailType: "ECR Image Action",
      field: "detail.repository-name",
    });
  });

  it.each([
    [{ "detail-type": "ECR Image Scan" }, "source", "Required"],
    [{ source: 42, "detail-type": "ECR Image Scan" }, "source", "Expected string, received number"],
    [{ source: "aws.ecr" }, "detail-type", "Required"],
    [
      { source: "aws.ecr", "detail-type": ["ECR Image Scan"] },
      "detail-type",
      "Expected string, received array",
    ],
    [{ source: "__proto__", "detail-type": "x" }, "source", '"__proto__" is not handled by Gantry'],
    [
      { source: "aws.ecr", "detail-type": "toString" },
      "detail-type",
      '"toString" from aws.ecr is not handled',
    ],
  ])("rejects envelope %j on %s", (raw, field, reason) => {
    const error = rejection(() => parseAwsEvent(raw));
    expect(error.field).toBe(field);
    expect(error.reason).toContain(reason);
  });

  it("lists every issue and names the first in the message", () => {
    const event = ecrImagePushEvent({ ...base, repositoryName: "api", digest: DIGEST });
    const broken = { ...event, account: "1", region: "Europe" };
    const error = rejection(() => parseAwsEvent(broken));
    expect(error.issues.map((issue) => issue.field)).toEqual(["account", "region"]);
    expect(error.message).toBe("ECR Image Action: account: Expected a 12-digit AWS account id (and 1 more)");
  });
});

// ---------------------------------------------------------------------------------------------
// Builders round-trip through parseAwsEvent
// ---------------------------------------------------------------------------------------------

const segment = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/);
const repositoryName = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`);
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const account = fc.stringMatching(/^\d{12}$/);
const region = fc.constantFrom("us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1");
const time = fc
  .integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2035, 0, 1) })
  .map((ms) => new Date(Math.floor(ms / 1000) * 1000));
const counts = fc
  .record(
    Object.fromEntries(SEVERITIES.map((s) => [s, fc.nat({ max: 500 })])) as Record<
      keyof SeverityCounts,
      fc.Arbitrary<number>
    >,
  )
  .map((c): SeverityCounts => ({ ...c }));
const envelope = fc.record({ account, region, time });

describe("builders round-trip through parseAwsEvent", () => {
  it("ecrImagePushEvent", () => {
    fc.assert(
      fc.property(
        envelope,
        repositoryName,
        digest,
        fc.option(tag, { nil: undefined }),
        (env, repo, dg, tg) => {
          const event = ecrImagePushEvent({
            ...env,
            repositoryName: repo,
            digest: dg,
            ...(tg ? { tag: tg } : {}),
          });
          expect(parseAwsEvent(event)).toStrictEqual({
            kind: "image-pushed",
            eventId: event.id,
            ...env,
            repositoryName: repo,
            digest: dg,
            ...(tg ? { tag: tg } : {}),
          });
        },
      ),
    );
  });

  it("ecrImageScanEvent", () => {
    fc.assert(
      fc.property(
        envelope,
        repositoryName,
        digest,
        fc.array(tag, { maxLength: 3 }),
        counts,
        (env, repo, dg, tags, c) => {
          const event = ecrImageScanEvent({
            ...env,
            repositoryName: repo,
            digest: dg,
            tags,
            severityCounts: c,
          });
          // Zero counts are left out, as ECR does.
          expect(Object.values(detailOf(event)["finding-severity-counts"] as Json)).not.toContain(0);
          expect(parseAwsEvent(event)).toStrictEqual({
            kind: "image-scan-completed",
            eventId: event.id,
            ...env,
            scanner: "basic",
            repositoryName: repo,
            digest: dg,
            tags,
            scanStatus: "COMPLETE",
            succeeded: true,
            severityCounts: c,
          });
        },
      ),
    );
  });

  it("inspectorScanEvent", () => {
    fc.assert(
      fc.property(
        envelope,
        repositoryName,
        digest,
        fc.array(tag, { maxLength: 3 }),
        counts,
        (env, repo, dg, tags, c) => {
          const event = inspectorScanEvent({
            ...env,
            repositoryName: repo,
            digest: dg,
            tags,
            severityCounts: c,
          });
          expect(parseAwsEvent(event)).toStrictEqual({
            kind: "image-scan-completed",
            eventId: event.id,
            ...env,
            scanner: "enhanced",
            repositoryName: repo,
            digest: dg,
            tags,
            scanStatus: "INITIAL_SCAN_COMPLETE",
            succeeded: true,
            severityCounts: c,
            reportedTotal: Object.values(c).reduce((a, b) => a + b, 0),
          });
        },
      ),
    );
  });

  it("App Runner builders", () => {
    const serviceName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$/);
    const serviceId = fc.stringMatching(/^[0-9a-f]{32}$/);
    fc.assert(
      fc.property(envelope, serviceName, serviceId, (env, name, id) => {
        const op = appRunnerOperationStatusEvent({
          ...env,
          serviceName: name,
          serviceId: id,
          operationStatus: "DeploymentFailed",
        });
        expect(parseAwsEvent(op)).toMatchObject({
          kind: "apprunner-operation-status-changed",
          ...env,
          serviceName: name,
          serviceId: id,
          outcome: "failed",
        });
        const st = appRunnerServiceStatusEvent({
          ...env,
          serviceName: name,
          serviceId: id,
          previousStatus: "RUNNING",
          currentStatus: "PAUSED",
        });
        expect(parseAwsEvent(st)).toMatchObject({
          kind: "apprunner-service-status-changed",
          serviceName: name,
          serviceId: id,
          message: "Service status is set to PAUSED.",
        });
      }),
    );
  });

  it("writes EventBridge's time format and a deterministic, content-derived id unless one is given", () => {
    const input = {
      ...base,
      time: new Date("2024-05-01T10:00:00.789Z"),
      repositoryName: "api",
      digest: DIGEST,
    };
    const a = ecrImagePushEvent(input);
    expect(a.time).toBe("2024-05-01T10:00:00Z");
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ecrImagePushEvent(input).id).toBe(a.id);
    expect(ecrImagePushEvent({ ...input, tag: "v1" }).id).not.toBe(a.id);
    expect(ecrImagePushEvent({ ...input, id: "given" }).id).toBe("given");
    expect(ecrImagePushEvent(input)).toMatchObject({ version: "0", source: "aws.ecr", resources: [] });
  });

  it("uses the region's partition in ARNs", () => {
    const event = inspectorScanEvent({
      ...base,
      region: "cn-north-1",
      repositoryName: "api",
      digest: DIGEST,
      severityCounts: {},
    });
    expect(event.resources).toEqual(["arn:aws-cn:ecr:cn-north-1:123456789012:repository/api"]);
    expect(parseAwsEvent(event)).toMatchObject({ repositoryName: "api" });
  });
});
