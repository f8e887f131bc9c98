/**
 * AWS EventBridge events → Gantry domain events. `parse*` validate (aws-event-schemas.ts) and map;
 * `map*` take an already validated event. Every rejection is an `EventContractError` naming the field.
 *
 * Non-push `ECR Image Action`s (DELETE, or a result other than SUCCESS) are valid AWS events that
 * Gantry does not act on. They raise `IgnoredEventError`, a subclass of `EventContractError`, rather
 * than returning an `{ ignored }` variant: the `ecr-image-push` rule already filters PUSH/SUCCESS, so
 * one reaching the mapper was misrouted, and every caller keeps a plain `DomainEvent` to switch on
 * while the one "drop, don't retry" path handles both errors.
 */
import type {
  AppRunnerOperationStatusChanged,
  AppRunnerServiceStatusChanged,
  DomainEvent,
  ImagePushed,
  ImageScanCompleted,
} from "@gantry/core";

import type * as z from "zod";
import {
  type AppRunnerOperationStatusEvent,
  type AppRunnerServiceStatusEvent,
  appRunnerOperationStatusEventSchema,
  appRunnerServiceStatusEventSchema,
  contractReasons,
  describeType,
  ECR_BASIC_SCAN_SUCCEEDED,
  type EcrImagePushEvent,
  type EcrImageScanEvent,
  ecrImageActionEventSchema,
  ecrImagePushEventSchema,
  ecrImageScanEventSchema,
  INSPECTOR_SCAN_SUCCEEDED,
  type InspectorScanEvent,
  inspectorScanEventSchema,
} from "./aws-event-schemas.ts";
import { parseAppRunnerPauseCall } from "./cloudtrail-events.ts";
import {
  type ContractIssue,
  EventContractError,
  formatValue,
  IgnoredEventError,
} from "./event-contract-error.ts";

// ---------------------------------------------------------------------------------------------
// Validation plumbing
// ---------------------------------------------------------------------------------------------

/** `["detail", "image-digest"]` → `detail.image-digest`; `["resources", 0]` → `resources[0]`. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(event)";
}

function toIssues(error: z.core.$ZodError): ContractIssue[] {
  return error.issues.map((issue) => {
    // Report an unexpected key as the field itself, e.g. `detail.finding-severity-counts.BOGUS`.
    if (issue.code === "unrecognized_keys") {
      return { field: fieldPath([...issue.path, issue.keys[0] ?? ""]), reason: "Unrecognized key" };
    }
    return { field: fieldPath(issue.path), reason: issue.message };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `source` / `detail-type` of the raw input, when they are strings: used to label errors. */
function labels(raw: unknown): { source?: string; detailType?: string } {
  if (!isRecord(raw)) return {};
  const out: { source?: string; detailType?: string } = {};
  if (typeof raw.source === "string") out.source = raw.source;
  if (typeof raw["detail-type"] === "string") out.detailType = raw["detail-type"];
  return out;
}

function assertObject(raw: unknown): asserts raw is Record<string, unknown> {
  if (!isRecord(raw)) {
    throw new EventContractError({
      field: "(event)",
      reason: `Expected an EventBridge event object, received ${describeType(raw)}`,
    });
  }
}

const IDENTITY_FIELDS = new Set(["source", "detail-type"]);

export function validate<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  assertObject(raw);
  const result = schema.safeParse(raw, { error: contractReasons });
  if (result.success) return result.data;
  // A wrong source or detail-type means a different event altogether: say that first.
  const issues = toIssues(result.error).sort(
    (a, b) => Number(IDENTITY_FIELDS.has(b.field)) - Number(IDENTITY_FIELDS.has(a.field)),
  );
  const first = issues[0] ?? { field: "(event)", reason: "Invalid" };
  throw new EventContractError({ ...first, ...labels(raw), issues });
}

export function envelope(event: { id: string; account: string; region: string; time: string }) {
  return { eventId: event.id, account: event.account, region: event.region, time: new Date(event.time) };
}

// ---------------------------------------------------------------------------------------------
// ECR and Inspector (FACTS §2)
// ---------------------------------------------------------------------------------------------

export function mapEcrImagePush(event: EcrImagePushEvent): ImagePushed {
  const detail = event.detail;
  const pushed: ImagePushed = {
    kind: "image-pushed",
    ...envelope(event),
    repositoryName: detail["repository-name"],
    digest: detail["image-digest"],
  };
  if (detail["image-tag"] !== undefined) pushed.tag = detail["image-tag"];
  return pushed;
}

/**
 * `ECR Image Action` PUSH / SUCCESS → `ImagePushed`. Any other action or result is a valid event Gantry
 * ignores: `IgnoredEventError` (see the file comment).
 */
export function parseEcrImagePushEvent(raw: unknown): ImagePushed {
  const action = validate(ecrImageActionEventSchema, raw);
  const { "action-type": actionType, result } = action.detail;
  if (actionType !== "PUSH" || result !== "SUCCESS") {
    throw new IgnoredEventError({
      field: actionType !== "PUSH" ? "detail.action-type" : "detail.result",
      reason: `Not a successful push (action-type ${actionType}, result ${result}): Gantry ignores it; the ecr-image-push rule only routes PUSH/SUCCESS`,
      source: action.source,
      detailType: action["detail-type"],
    });
  }
  return mapEcrImagePush(validate(ecrImagePushEventSchema, raw));
}

export function mapEcrImageScan(event: EcrImageScanEvent): ImageScanCompleted {
  const detail = event.detail;
  const scanStatus = detail["scan-status"];
  return {
    kind: "image-scan-completed",
    ...envelope(event),
    scanner: "basic",
    repositoryName: detail["repository-name"],
    digest: detail["image-digest"],
    tags: detail["image-tags"] ?? [],
    scanStatus,
    succeeded: scanStatus === ECR_BASIC_SCAN_SUCCEEDED,
    // Keys are only sent when > 0 (FACTS §2): the schema already filled the missing ones with 0.
    severityCounts: detail["finding-severity-counts"] ?? emptyCounts(),
  };
}

export function parseEcrImageScanEvent(raw: unknown): ImageScanCompleted {
  return mapEcrImageScan(validate(ecrImageScanEventSchema, raw));
}

export function mapInspectorScan(event: InspectorScanEvent): ImageScanCompleted {
  const detail = event.detail;
  const scanStatus = detail["scan-status"];
  const counts = detail["finding-severity-counts"];
  const scan: ImageScanCompleted = {
    kind: "image-scan-completed",
    ...envelope(event),
    scanner: "enhanced",
    // Already the plain name: the schema strips the repository ARN Inspector sends (FACTS §2).
    repositoryName: detail["repository-name"],
    digest: detail["image-digest"],
    tags: detail["image-tags"] ?? [],
    scanStatus,
    succeeded: scanStatus === INSPECTOR_SCAN_SUCCEEDED,
    severityCounts: counts?.counts ?? emptyCounts(),
  };
  if (counts?.total !== undefined) scan.reportedTotal = counts.total;
  return scan;
}

export function parseInspectorScanEvent(raw: unknown): ImageScanCompleted {
  return mapInspectorScan(validate(inspectorScanEventSchema, raw));
}

function emptyCounts(): ImageScanCompleted["severityCounts"] {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 };
}

// ---------------------------------------------------------------------------------------------
// App Runner (FACTS §0.6, §0.7, §1)
// ---------------------------------------------------------------------------------------------

/**
 * Only `*CompletedSuccessfully` and the six `*Failed` codes are documented; `*Started` is implied by
 * the docs but unverified (FACTS §1), and anything new stays `unknown` instead of being guessed.
 */
export function operationOutcome(operationStatus: string): AppRunnerOperationStatusChanged["outcome"] {
  if (operationStatus.endsWith("CompletedSuccessfully")) return "succeeded";
  if (operationStatus.endsWith("Failed")) return "failed";
  if (operationStatus.endsWith("Started")) return "started";
  return "unknown";
}

function withOptionalText<T extends object>(target: T, fields: Record<string, string | undefined>): T {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

export function mapAppRunnerOperationStatus(
  event: AppRunnerOperationStatusEvent,
): AppRunnerOperationStatusChanged {
  const changed: AppRunnerOperationStatusChanged = {
    kind: "apprunner-operation-status-changed",
    ...envelope(event),
    serviceArn: event.serviceArn,
    serviceName: event.serviceName,
    serviceId: event.serviceId,
    operationStatus: event.operationStatus,
    outcome: operationOutcome(event.operationStatus),
  };
  return withOptionalText(changed, { message: event.message, severity: event.severity });
}

export function parseAppRunnerOperationStatusEvent(raw: unknown): AppRunnerOperationStatusChanged {
  return mapAppRunnerOperationStatus(validate(appRunnerOperationStatusEventSchema, raw));
}

export function mapAppRunnerServiceStatus(event: AppRunnerServiceStatusEvent): AppRunnerServiceStatusChanged {
  const changed: AppRunnerServiceStatusChanged = {
    kind: "apprunner-service-status-changed",
    ...envelope(event),
    serviceArn: event.serviceArn,
    serviceName: event.serviceName,
    serviceId: event.serviceId,
    currentStatus: event.currentStatus,
  };
  return withOptionalText(changed, {
    previousStatus: event.previousStatus,
    message: event.message,
    severity: event.severity,
  });
}

export function parseAppRunnerServiceStatusEvent(raw: unknown): AppRunnerServiceStatusChanged {
  return mapAppRunnerServiceStatus(validate(appRunnerServiceStatusEventSchema, raw));
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

/** The `source` → `detail-type` pairs Gantry maps; the same pairs `gantryRules` subscribes to. */
const PARSERS: Record<string, Record<string, (raw: unknown) => DomainEvent>> = {
  "aws.ecr": {
    "ECR Image Action": parseEcrImagePushEvent,
    "ECR Image Scan": parseEcrImageScanEvent,
  },
  "aws.inspector2": {
    "Inspector2 Scan": parseInspectorScanEvent,
  },
  "aws.apprunner": {
    "AppRunner Service Operation Status Change": parseAppRunnerOperationStatusEvent,
    "AppRunner Service Status Change": parseAppRunnerServiceStatusEvent,
    "AWS API Call via CloudTrail": parseAppRunnerPauseCall,
  },
};

/** Every handled `source` with its handled `detail-type`s. */
export const handledAwsEventTypes: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(PARSERS).map(([source, byType]) => [source, Object.keys(byType)]),
);

/**
 * Any AWS event Gantry consumes → its domain event, dispatched on `source` + `detail-type`.
 * Throws `EventContractError` (or its subclass `IgnoredEventError`) for anything else.
 */
export function parseAwsEvent(raw: unknown): DomainEvent {
  assertObject(raw);
  const { source, "detail-type": detailType } = raw;
  if (typeof source !== "string") {
    const reason = source === undefined ? "Required" : `Expected string, received ${describeType(source)}`;
    throw new EventContractError({ field: "source", reason, ...labels(raw) });
  }
  const byType = Object.hasOwn(PARSERS, source) ? PARSERS[source] : undefined;
  if (!byType) {
    throw new EventContractError({
      field: "source",
      reason: `${formatValue(source)} is not handled by Gantry (handled: ${Object.keys(PARSERS).join(", ")})`,
      ...labels(raw),
    });
  }
  if (typeof detailType !== "string") {
    const reason =
      detailType === undefined ? "Required" : `Expected string, received ${describeType(detailType)}`;
    throw new EventContractError({ field: "detail-type", reason, source });
  }
  const parse = Object.hasOwn(byType, detailType) ? byType[detailType] : undefined;
  if (!parse) {
    throw new EventContractError({
      field: "detail-type",
      reason: `${formatValue(detailType)} from ${source} is not handled by Gantry (handled: ${Object.keys(byType).join(", ")})`,
      source,
      detailType,
    });
  }
  return parse(raw);
}
