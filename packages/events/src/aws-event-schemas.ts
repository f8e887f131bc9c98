/**
 * zod schemas for the AWS events Gantry consumes, written against AWS's documented samples (copied
 * under `test/fixtures/aws-events/`, provenance in its SOURCES.md). FACTS = `aws/FACTS.md` of the
 * project's reference notes; the sections cited are §1 (App Runner events) and §2 (ECR, Inspector).
 *
 * Objects are parsed loosely (unknown keys kept, not rejected): AWS adds fields over time, e.g.
 * `manifest-media-type` on `ECR Image Action`. The exception is severity counts, see below.
 */
import { SEVERITIES, type Severity, type SeverityCounts } from "@gantry/core";
import * as z from "zod";
import { formatValue } from "./event-contract-error.ts";

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Short reasons instead of zod's defaults: "Required" rather than "expected string, received undefined". */
export const contractReasons: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "invalid_type") {
    return issue.input === undefined
      ? "Required"
      : `Expected ${issue.expected}, received ${describeType(issue.input)}`;
  }
  if (issue.code === "invalid_value") {
    return `Expected ${issue.values.map(formatValue).join(" or ")}, received ${formatValue(issue.input)}`;
  }
  return undefined;
};

/**
 * Tolerant on purpose: AWS's own samples carry 60-hex digests and one ending in `EXAMPLE` (FACTS §2,
 * fixtures), so require the `sha256:` algorithm and a non-empty alphanumeric body, nothing more. The
 * same rule as `parseImageIdentifier` in core, so every accepted digest can be deployed by reference.
 */
export const imageDigestSchema = z
  .string()
  .regex(/^sha256:[A-Za-z0-9]+$/, "Expected a digest of the form sha256:<alphanumerics>");

/** ECR repository names are lowercase, may be namespaced with `/`; rejecting `:` keeps ARNs out. */
export const ecrRepositoryNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._/-]*$/, "Expected an ECR repository name (lowercase, digits, . _ - /)");

export const imageTagSchema = z.string().min(1, "Expected a non-empty image tag");

/** `arn:<partition>:ecr:<region>:<account>:repository/<name>`; the name may contain `/`. */
const ECR_REPOSITORY_ARN = /^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/(.+)$/;

/** `arn:<partition>:apprunner:<region>:<account>:service/<name>[/<id>]` (FACTS §1). */
const APP_RUNNER_SERVICE_ARN =
  /^arn:aws[a-z-]*:apprunner:[a-z0-9-]+:\d{12}:service\/([A-Za-z0-9][A-Za-z0-9_-]*)(?:\/([A-Za-z0-9]+))?$/;

export const appRunnerServiceArnSchema = z
  .string()
  .regex(
    APP_RUNNER_SERVICE_ARN,
    "Expected an App Runner service ARN (arn:aws:apprunner:…:service/<name>/<id>)",
  );

/** Splits a service ARN already checked by `appRunnerServiceArnSchema`. */
export function parseAppRunnerServiceArn(
  arn: string,
): { serviceName: string; serviceId?: string } | undefined {
  const match = APP_RUNNER_SERVICE_ARN.exec(arn);
  if (!match?.[1]) return undefined;
  return match[2] ? { serviceName: match[1], serviceId: match[2] } : { serviceName: match[1] };
}

/** The envelope every AWS service event shares (`EventBridgeEvent` in envelope.ts), validated. */
const envelopeShape = {
  version: z.string(),
  id: z.string().min(1, "Expected a non-empty event id"),
  account: z.string().regex(/^\d{12}$/, "Expected a 12-digit AWS account id"),
  // EventBridge writes ISO-8601 UTC with seconds (FACTS §1); offsets and fractions are accepted too.
  time: z.iso.datetime({ offset: true, error: "Expected an ISO-8601 timestamp" }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "Expected an AWS region such as us-east-1"),
  resources: z.array(z.string()),
};

export const eventBridgeEnvelopeSchema = z.looseObject({
  ...envelopeShape,
  source: z.string().min(1),
  "detail-type": z.string().min(1),
  detail: z.looseObject({}),
});

// ---------------------------------------------------------------------------------------------
// Severity counts
// ---------------------------------------------------------------------------------------------

const countSchema = z.number().int().nonnegative();

/** ECR's severity keys (ECR model `FindingSeverity`), each sent only when its count is > 0 (FACTS §2). */
const ecrCountsShape = {
  CRITICAL: countSchema.optional(),
  HIGH: countSchema.optional(),
  MEDIUM: countSchema.optional(),
  LOW: countSchema.optional(),
  INFORMATIONAL: countSchema.optional(),
  UNDEFINED: countSchema.optional(),
} satisfies Record<Severity, unknown>;

function fillCounts(partial: Partial<Record<Severity, number | undefined>>): SeverityCounts {
  const counts = {} as SeverityCounts;
  for (const severity of SEVERITIES) counts[severity] = partial[severity] ?? 0;
  return counts;
}

/**
 * Unknown keys are rejected here, unlike everywhere else: a gate that silently ignored a new severity
 * would under-count findings. A rejected scan event fails closed (the scan times out and the
 * reconciler asks the API), which is the safe direction.
 */
export const ecrSeverityCountsSchema = z.strictObject(ecrCountsShape).transform(fillCounts);

/**
 * Inspector adds `TOTAL` (not a severity) and may omit keys (FACTS §2). Its own severity enum has
 * `UNTRIAGED` where ECR has `UNDEFINED` (Inspector2 API model `Severity`); both mean "severity not
 * determined", so they are added up as UNDEFINED.
 */
export const inspectorSeverityCountsSchema = z
  .strictObject({ ...ecrCountsShape, UNTRIAGED: countSchema.optional(), TOTAL: countSchema.optional() })
  .transform(({ TOTAL, UNTRIAGED, ...severities }) => {
    const counts = fillCounts(severities);
    counts.UNDEFINED += UNTRIAGED ?? 0;
    return { counts, total: TOTAL };
  });

// ---------------------------------------------------------------------------------------------
// ECR and Inspector events (FACTS §2)
// ---------------------------------------------------------------------------------------------

/** `ECR Image Action`, any action: the schema registry makes only action, result and repo required. */
export const ecrImageActionEventSchema = z.looseObject({
  ...envelopeShape,
  source: z.literal("aws.ecr"),
  "detail-type": z.literal("ECR Image Action"),
  detail: z.looseObject({
    "action-type": z.string().min(1),
    result: z.string().min(1),
    "repository-name": ecrRepositoryNameSchema,
    "image-digest": imageDigestSchema.optional(),
    // Absent for an untagged push; one event per tag is not guaranteed, so the digest is the key.
    "image-tag": imageTagSchema.optional(),
  }),
});

/** A successful push: the only `ECR Image Action` Gantry acts on, and it must name the digest. */
export const ecrImagePushEventSchema = ecrImageActionEventSchema.extend({
  detail: ecrImageActionEventSchema.shape.detail.extend({
    "action-type": z.literal("PUSH"),
    result: z.literal("SUCCESS"),
    "image-digest": imageDigestSchema,
  }),
});

/** Basic scan: `COMPLETE` is the status with findings to judge (ECR waiter `ImageScanComplete`). */
export const ECR_BASIC_SCAN_SUCCEEDED = "COMPLETE";
/** Enhanced scan: the status of Inspector's `Inspector2 Scan` sample (FACTS §2). */
export const INSPECTOR_SCAN_SUCCEEDED = "INITIAL_SCAN_COMPLETE";

const requireCountsWhenSucceeded =
  (succeededStatus: string) =>
  (
    event: { detail: { "scan-status": string; "finding-severity-counts"?: unknown } },
    ctx: z.RefinementCtx,
  ): void => {
    // A failed scan may carry no counts; a successful one must, or "no object" would read as "no
    // findings" and open the gate. Dropping it instead fails closed (DESIGN: events are hints).
    const detail = event.detail;
    if (detail["scan-status"] === succeededStatus && detail["finding-severity-counts"] === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["detail", "finding-severity-counts"],
        message: `Required when scan-status is ${succeededStatus}`,
      });
    }
  };

export const ecrImageScanEventSchema = z
  .looseObject({
    ...envelopeShape,
    source: z.literal("aws.ecr"),
    "detail-type": z.literal("ECR Image Scan"),
    detail: z.looseObject({
      "scan-status": z.string().min(1),
      "repository-name": ecrRepositoryNameSchema,
      "finding-severity-counts": ecrSeverityCountsSchema.optional(),
      "image-digest": imageDigestSchema,
      // May be `[]` (the AWS sample); tolerated when absent.
      "image-tags": z.array(imageTagSchema).optional(),
    }),
  })
  .superRefine(requireCountsWhenSucceeded(ECR_BASIC_SCAN_SUCCEEDED));

/**
 * Inspector's `repository-name` holds the repository ARN (FACTS §2); a plain name is accepted too in
 * case Inspector ever sends one. Either way the result is the plain name (which may contain `/`).
 */
export const inspectorRepositorySchema = z.string().transform((value, ctx) => {
  const fromArn = ECR_REPOSITORY_ARN.exec(value)?.[1];
  const name = fromArn ?? (value.startsWith("arn:") ? undefined : value);
  if (name === undefined || !ecrRepositoryNameSchema.safeParse(name).success) {
    ctx.addIssue({
      code: "custom",
      input: value,
      message: "Expected an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>) or name",
    });
    return z.NEVER;
  }
  return name;
});

export const inspectorScanEventSchema = z
  .looseObject({
    ...envelopeShape,
    source: z.literal("aws.inspector2"),
    "detail-type": z.literal("Inspector2 Scan"),
    detail: z.looseObject({
      "scan-status": z.string().min(1),
      "repository-name": inspectorRepositorySchema,
      "finding-severity-counts": inspectorSeverityCountsSchema.optional(),
      "image-digest": imageDigestSchema,
      "image-tags": z.array(imageTagSchema).optional(),
    }),
  })
  .superRefine(requireCountsWhenSucceeded(INSPECTOR_SCAN_SUCCEEDED));

// ---------------------------------------------------------------------------------------------
// App Runner events (FACTS §0.6, §1)
// ---------------------------------------------------------------------------------------------

interface TolerantField {
  /** Documented spellings, compared case-insensitively. The first one is used in messages. */
  aliases: readonly [string, ...string[]];
  value: z.ZodType<string | undefined>;
}

const requiredText = z.string().min(1);
const optionalText = z.string().optional();

/** The three documented spellings of App Runner's detail keys (FACTS §1 table: v1, v2, v3). */
const APP_RUNNER_FIELDS = {
  operationStatus: { aliases: ["operationStatus", "Status"], value: requiredText },
  previousStatus: { aliases: ["previousServiceStatus", "previousStatus"], value: optionalText },
  currentStatus: { aliases: ["currentServiceStatus", "currentStatus"], value: requiredText },
  serviceName: { aliases: ["serviceName"], value: optionalText },
  serviceId: { aliases: ["serviceId"], value: optionalText },
  message: { aliases: ["message"], value: optionalText },
  severity: { aliases: ["severity"], value: optionalText },
} as const satisfies Record<string, TolerantField>;

type AppRunnerField = keyof typeof APP_RUNNER_FIELDS;

interface TolerantDetail<K extends AppRunnerField> {
  values: { [F in K]: z.output<(typeof APP_RUNNER_FIELDS)[F]["value"]> };
  /** The key each value was read from, so later checks can name the field as the event spelt it. */
  keys: { [F in K]: string };
}

/**
 * Reads each wanted field under any documented spelling, in any letter case. Two spellings with
 * different values are contradictory and rejected rather than guessed between.
 */
function tolerantDetailSchema<K extends AppRunnerField>(wanted: readonly K[]) {
  return z.record(z.string(), z.unknown()).transform((detail, ctx): TolerantDetail<K> => {
    const values: Record<string, unknown> = {};
    const keys: Record<string, string> = {};
    for (const field of wanted) {
      const spec: TolerantField = APP_RUNNER_FIELDS[field];
      const spellings = new Set(spec.aliases.map((alias) => alias.toLowerCase()));
      const present = Object.keys(detail).filter((key) => spellings.has(key.toLowerCase()));
      const key = present[0] ?? spec.aliases[0];
      keys[field] = key;
      const conflicting = present.find((other) => detail[other] !== detail[key]);
      if (conflicting !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [conflicting],
          input: detail[conflicting],
          message: `Conflicts with ${key} (${formatValue(detail[key])}); both are spellings of ${spec.aliases[0]}`,
        });
        continue;
      }
      const parsed = spec.value.safeParse(detail[key], { error: contractReasons });
      if (parsed.success) {
        values[field] = parsed.data;
        continue;
      }
      for (const issue of parsed.error.issues) {
        const missing = issue.code === "invalid_type" && detail[key] === undefined;
        ctx.addIssue({
          code: "custom",
          path: [key, ...issue.path],
          input: detail[key],
          message: missing
            ? `Required (accepted spellings: ${spec.aliases.join(", ")}, any case)`
            : issue.message,
        });
      }
    }
    return { values, keys } as TolerantDetail<K>;
  });
}

/** What both App Runner events normalise to: the service is named by `resources[0]` (FACTS §1). */
export interface AppRunnerServiceFields {
  serviceArn: string;
  serviceName: string;
  serviceId: string;
}

/**
 * `serviceName`/`serviceId` come from the detail when present, else from the ARN; when both exist they
 * must agree, or the event would be recorded against the wrong service.
 */
function resolveService(
  event: { resources: [string, ...string[]]; detail: TolerantDetail<"serviceName" | "serviceId"> },
  ctx: z.RefinementCtx,
): AppRunnerServiceFields | undefined {
  const serviceArn = event.resources[0];
  const fromArn = parseAppRunnerServiceArn(serviceArn);
  const { values, keys } = event.detail;
  let ok = true;
  const pick = (field: "serviceName" | "serviceId"): string | undefined => {
    const inDetail = values[field];
    const inArn = fromArn?.[field];
    if (inDetail !== undefined && inArn !== undefined && inDetail !== inArn) {
      ctx.addIssue({
        code: "custom",
        path: ["detail", keys[field]],
        input: inDetail,
        message: `Does not match resources[0] (${serviceArn})`,
      });
      ok = false;
    }
    if (inDetail === undefined && inArn === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["detail", keys[field]],
        input: undefined,
        message: "Required: neither the detail nor resources[0] names it",
      });
      ok = false;
    }
    return inDetail ?? inArn;
  };
  const serviceName = pick("serviceName");
  const serviceId = pick("serviceId");
  if (!ok || serviceName === undefined || serviceId === undefined) return undefined;
  return { serviceArn, serviceName, serviceId };
}

const appRunnerResourcesSchema = z.tuple([appRunnerServiceArnSchema], z.string());

export const appRunnerOperationStatusEventSchema = z
  .looseObject({
    ...envelopeShape,
    source: z.literal("aws.apprunner"),
    "detail-type": z.literal("AppRunner Service Operation Status Change"),
    resources: appRunnerResourcesSchema,
    detail: tolerantDetailSchema(["operationStatus", "serviceName", "serviceId", "message", "severity"]),
  })
  .transform((event, ctx) => {
    const service = resolveService(event, ctx);
    if (!service) return z.NEVER;
    const { detail, ...envelope } = event;
    const { operationStatus, message, severity } = detail.values;
    return { ...envelope, ...service, operationStatus, message, severity };
  });

export const appRunnerServiceStatusEventSchema = z
  .looseObject({
    ...envelopeShape,
    source: z.literal("aws.apprunner"),
    "detail-type": z.literal("AppRunner Service Status Change"),
    resources: appRunnerResourcesSchema,
    detail: tolerantDetailSchema([
      "previousStatus",
      "currentStatus",
      "serviceName",
      "serviceId",
      "message",
      "severity",
    ]),
  })
  .transform((event, ctx) => {
    const service = resolveService(event, ctx);
    if (!service) return z.NEVER;
    const { detail, ...envelope } = event;
    const { previousStatus, currentStatus, message, severity } = detail.values;
    return { ...envelope, ...service, previousStatus, currentStatus, message, severity };
  });

export type EcrImageActionEvent = z.output<typeof ecrImageActionEventSchema>;
export type EcrImagePushEvent = z.output<typeof ecrImagePushEventSchema>;
export type EcrImageScanEvent = z.output<typeof ecrImageScanEventSchema>;
export type InspectorScanEvent = z.output<typeof inspectorScanEventSchema>;
export type AppRunnerOperationStatusEvent = z.output<typeof appRunnerOperationStatusEventSchema>;
export type AppRunnerServiceStatusEvent = z.output<typeof appRunnerServiceStatusEventSchema>;
