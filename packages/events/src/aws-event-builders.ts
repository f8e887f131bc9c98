/**
 * Realistic EventBridge events, shaped like AWS's documented samples (test/fixtures/aws-events/),
 * for tests and the sandbox's in-process bus. They reproduce AWS's quirks on purpose so the code that
 * consumes them meets the same shapes as in production: severity keys only when > 0, Inspector's
 * repository ARN in `repository-name` and its `TOTAL` key, `resources: []` on pushes (FACTS §2).
 */
import { createHash } from "node:crypto";
import { SEVERITIES, type SeverityCounts } from "@gantry/core";
import type { EventBridgeEvent } from "./envelope.ts";

interface BuilderEnvelope {
  account: string;
  region: string;
  /** When the event happened; written as EventBridge does, ISO-8601 UTC to the second. */
  time: Date | string;
  /** Defaults to a UUID derived from the event's content, so sandbox replays stay deterministic. */
  id?: string;
}

export interface EcrImagePushInput extends BuilderEnvelope {
  repositoryName: string;
  digest: string;
  /** Omit for an untagged push: ECR then sends no `image-tag` key. */
  tag?: string;
}

export interface ImageScanInput extends BuilderEnvelope {
  repositoryName: string;
  digest: string;
  tags?: string[];
  /** Missing severities are 0; zero counts are left out of the event, as ECR and Inspector do. */
  severityCounts: Partial<SeverityCounts>;
}

export interface EcrImageScanInput extends ImageScanInput {
  /** ECR `scan-status`; default `COMPLETE`. */
  status?: string;
}

export interface InspectorScanInput extends ImageScanInput {
  /** Inspector `scan-status`; default `INITIAL_SCAN_COMPLETE`. */
  status?: string;
  /** Inspector's `TOTAL`; defaults to the sum of the counts. Set it higher to mimic unattributed findings. */
  total?: number;
}

export interface AppRunnerEventInput extends BuilderEnvelope {
  serviceName: string;
  serviceId: string;
  message?: string;
  severity?: string;
}

export interface AppRunnerOperationStatusInput extends AppRunnerEventInput {
  /** e.g. `UpdateServiceCompletedSuccessfully`, `DeploymentFailed`. */
  operationStatus: string;
}

export interface AppRunnerServiceStatusInput extends AppRunnerEventInput {
  previousStatus: string;
  currentStatus: string;
}

function eventBridgeTime(time: Date | string): string {
  // Throws RangeError on an invalid date: a builder given nonsense should fail loudly.
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A UUIDv8 (RFC 9562, "custom") from a SHA-256 of the content. */
function contentId(content: unknown): string {
  const hex = createHash("sha256").update(JSON.stringify(content)).digest("hex");
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

function ecrRepositoryArn(input: { account: string; region: string; repositoryName: string }): string {
  return `arn:${partitionOf(input.region)}:ecr:${input.region}:${input.account}:repository/${input.repositoryName}`;
}

function appRunnerServiceArn(input: AppRunnerEventInput): string {
  const { region, account, serviceName, serviceId } = input;
  return `arn:${partitionOf(region)}:apprunner:${region}:${account}:service/${serviceName}/${serviceId}`;
}

function build<TDetail extends Record<string, unknown>>(
  input: BuilderEnvelope,
  source: string,
  detailType: string,
  resources: string[],
  detail: TDetail,
): EventBridgeEvent<TDetail> {
  const time = eventBridgeTime(input.time);
  const { account, region } = input;
  return {
    version: "0",
    id: input.id ?? contentId([source, detailType, account, region, time, resources, detail]),
    "detail-type": detailType,
    source,
    account,
    time,
    region,
    resources,
    detail,
  };
}

/** Only the severities with a count > 0, in ECR's order (FACTS §2: "no critical count is returned"). */
function nonZeroCounts(counts: Partial<SeverityCounts>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const severity of SEVERITIES) {
    const count = counts[severity] ?? 0;
    if (count > 0) out[severity] = count;
  }
  return out;
}

/** `ECR Image Action`, PUSH / SUCCESS, as in AWS's "completed image push" sample. */
export function ecrImagePushEvent(input: EcrImagePushInput): EventBridgeEvent {
  const detail: Record<string, unknown> = {
    result: "SUCCESS",
    "repository-name": input.repositoryName,
    "image-digest": input.digest,
    "action-type": "PUSH",
  };
  if (input.tag !== undefined) detail["image-tag"] = input.tag;
  return build(input, "aws.ecr", "ECR Image Action", [], detail);
}

/** `ECR Image Scan` (basic scanning), as in AWS's "completed image scan" sample. */
export function ecrImageScanEvent(input: EcrImageScanInput): EventBridgeEvent {
  const status = input.status ?? "COMPLETE";
  const counts = nonZeroCounts(input.severityCounts);
  const detail: Record<string, unknown> = { "scan-status": status, "repository-name": input.repositoryName };
  // A completed scan always carries the object (possibly `{}`); a failed one only if it has counts.
  if (status === "COMPLETE" || Object.keys(counts).length > 0) detail["finding-severity-counts"] = counts;
  detail["image-digest"] = input.digest;
  detail["image-tags"] = input.tags ?? [];
  return build(input, "aws.ecr", "ECR Image Scan", [ecrRepositoryArn(input)], detail);
}

/** `Inspector2 Scan` (enhanced scanning): `repository-name` is the repository ARN, counts carry `TOTAL`. */
export function inspectorScanEvent(input: InspectorScanInput): EventBridgeEvent {
  const status = input.status ?? "INITIAL_SCAN_COMPLETE";
  const counts = nonZeroCounts(input.severityCounts);
  const sum = Object.values(counts).reduce((a, b) => a + b, 0);
  const repositoryArn = ecrRepositoryArn(input);
  return build(input, "aws.inspector2", "Inspector2 Scan", [repositoryArn], {
    "scan-status": status,
    "repository-name": repositoryArn,
    "finding-severity-counts": { ...counts, TOTAL: input.total ?? sum },
    "image-digest": input.digest,
    "image-tags": input.tags ?? [],
  });
}

/** `AppRunner Service Operation Status Change`, in the latest documented (v3, camelCase) spelling. */
export function appRunnerOperationStatusEvent(input: AppRunnerOperationStatusInput): EventBridgeEvent {
  const detail: Record<string, unknown> = {
    operationStatus: input.operationStatus,
    serviceName: input.serviceName,
    serviceId: input.serviceId,
  };
  // AWS's per-code message texts were not retrieved (FACTS §1), so none is invented.
  if (input.message !== undefined) detail.message = input.message;
  detail.severity = input.severity ?? "INFO";
  const resources = [appRunnerServiceArn(input)];
  return build(input, "aws.apprunner", "AppRunner Service Operation Status Change", resources, detail);
}

/** `AppRunner Service Status Change`, v3 spelling, with the documented message template (FACTS §1). */
export function appRunnerServiceStatusEvent(input: AppRunnerServiceStatusInput): EventBridgeEvent {
  return build(input, "aws.apprunner", "AppRunner Service Status Change", [appRunnerServiceArn(input)], {
    previousServiceStatus: input.previousStatus,
    currentServiceStatus: input.currentStatus,
    serviceName: input.serviceName,
    serviceId: input.serviceId,
    message: input.message ?? `Service status is set to ${input.currentStatus}.`,
    severity: input.severity ?? "INFO",
  });
}
