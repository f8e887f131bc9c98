import { randomBytes } from "node:crypto";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import { S3Client } from "@aws-sdk/client-s3";
import { S3MultipartUploads } from "@gantry/aws";
import {
  abortUpload,
  type Caller,
  type Clock,
  completeUpload,
  completeUploadRequest,
  listUploadParts,
  parseUploadRequest,
  signPartsRequest,
  signUploadParts,
  startUpload,
  startUploadRequest,
  systemClock,
  UPLOAD_ERROR_STATUS,
  type UploadAuthorizer,
  type UploadDeps,
  type UploadRefusal,
  type UploadResult,
  uploadTokenRequest,
} from "@gantry/core";
import middy from "@middy/core";
import type {
  Context,
  LambdaFunctionURLEvent,
  APIGatewayProxyStructuredResultV2 as LambdaFunctionURLResult,
} from "aws-lambda";
import { classifyError } from "../error-classifier.ts";
import { describeError } from "../handler.ts";
import { logger, metrics, tracer } from "../observability.ts";
import { JwtUploadAuthorizer } from "./jwt-authorizer.ts";
import {
  parseUploadPresignConfig,
  type S3Location,
  type UploadPresignConfig,
} from "./upload-runtime-config.ts";
import { HmacUploadSessions } from "./upload-session-seal.ts";

/**
 * The presign API: a Lambda function URL that CloudFront serves under `/_uploads/*`. Every route is
 * a POST with a JSON body and answers JSON; refusals are 4xx `{ error, message }`.
 *
 *   POST /_uploads/create    { filename, contentType, size }           → 201 plan + token
 *   POST /_uploads/sign      { token, parts: [{ partNumber, checksumSha256 }] } → presigned part URLs
 *   POST /_uploads/parts     { token }                                 → parts S3 holds (resume)
 *   POST /_uploads/complete  { token, parts: [{ partNumber, etag, checksumSha256 }] }
 *   POST /_uploads/abort     { token }
 */

export interface PresignDeps {
  uploads: UploadDeps;
  authorizer: UploadAuthorizer;
}

type Route = "create" | "sign" | "parts" | "complete" | "abort";

/** Big enough for a complete request naming 10,000 parts (~110 bytes each). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const ROUTE = /(?:^|\/)_uploads\/(create|sign|parts|complete|abort)\/?$/;

type RouteHandler = (deps: UploadDeps, caller: Caller, body: unknown) => Promise<UploadResult<unknown>>;

function withBody<T>(
  schema: Parameters<typeof parseUploadRequest<T>>[0],
  action: (deps: UploadDeps, caller: Caller, request: T) => Promise<UploadResult<unknown>>,
): RouteHandler {
  return async (deps, caller, body) => {
    const request = parseUploadRequest(schema, body);
    return request.ok ? action(deps, caller, request.value) : request;
  };
}

const ROUTES: Record<Route, RouteHandler> = {
  create: withBody(startUploadRequest, startUpload),
  sign: withBody(signPartsRequest, signUploadParts),
  parts: withBody(uploadTokenRequest, listUploadParts),
  complete: withBody(completeUploadRequest, completeUpload),
  abort: withBody(uploadTokenRequest, abortUpload),
};

const SUCCESS_METRIC: Partial<Record<Route, string>> = {
  create: "UploadsStarted",
  complete: "UploadsCompleted",
};

function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): LambdaFunctionURLResult {
  return {
    statusCode,
    headers: {
      "content-type": "application/json",
      // Tokens and signed URLs must never sit in a shared cache.
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

function refusalResponse(refusal: UploadRefusal): LambdaFunctionURLResult {
  const status = UPLOAD_ERROR_STATUS[refusal.error];
  const headers: Record<string, string> = {};
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="gantry-uploads"';
  if (status === 405) headers.allow = "POST";
  return json(status, refusal, headers);
}

function lowercaseHeaders(headers: LambdaFunctionURLEvent["headers"]): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) result[name.toLowerCase()] = value;
  return result;
}

function parseBody(event: LambdaFunctionURLEvent): UploadResult<unknown> {
  const raw = event.body ?? "";
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    return { ok: false, refusal: { error: "bad_request", message: "the body is too large" } };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, refusal: { error: "bad_request", message: "the body must be JSON" } };
  }
}

async function respond(
  provide: () => PresignDeps,
  event: LambdaFunctionURLEvent,
): Promise<LambdaFunctionURLResult> {
  const route = ROUTE.exec(event.rawPath ?? "")?.[1] as Route | undefined;
  if (route === undefined) return refusalResponse({ error: "not_found", message: "no such upload route" });
  logger.appendKeys({ route });
  if (event.requestContext?.http?.method !== "POST") {
    return refusalResponse({ error: "method_not_allowed", message: "use POST" });
  }
  const deps = provide();
  // Authorise before reading the body: an unknown caller learns nothing about the API.
  const caller = await deps.authorizer.authorize(lowercaseHeaders(event.headers));
  if (!caller.ok) return refusalResponse(caller.refusal);
  const body = parseBody(event);
  if (!body.ok) return refusalResponse(body.refusal);
  const result = await ROUTES[route](deps.uploads, caller.value, body.value);
  if (!result.ok) {
    metrics.addMetric("UploadRefusals", MetricUnit.Count, 1);
    logger.info("upload request refused", { error: result.refusal.error, message: result.refusal.message });
    return refusalResponse(result.refusal);
  }
  const metric = SUCCESS_METRIC[route];
  if (metric) metrics.addMetric(metric, MetricUnit.Count, 1);
  return json(route === "create" ? 201 : 200, result.value);
}

export type UploadPresignHandler = ReturnType<typeof createUploadPresignHandler>;

export function createUploadPresignHandler(provide: () => PresignDeps) {
  const run = async (event: LambdaFunctionURLEvent, _context: Context): Promise<LambdaFunctionURLResult> => {
    metrics.addMetric("UploadRequests", MetricUnit.Count, 1);
    try {
      return await respond(provide, event);
    } catch (error) {
      // Not a refusal: S3 or the code failed. Transient failures say so, so the client retries.
      const { kind, reason } = classifyError(error);
      metrics.addMetric("UploadErrors", MetricUnit.Count, 1);
      logger.error("upload request failed", { reason, error: describeError(error, kind === "fail") });
      return kind === "retry"
        ? json(503, { error: "unavailable", message: "try again shortly" }, { "retry-after": "2" })
        : json(500, { error: "internal", message: "the upload service failed" });
    }
  };
  return middy<LambdaFunctionURLEvent, LambdaFunctionURLResult, Error, Context>(run)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(
      injectLambdaContext(logger, {
        resetKeys: true,
        logEvent: false,
        correlationIdPath: "requestContext.requestId",
      }),
    )
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

export function s3ClientFor(
  location: S3Location,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): S3Client {
  return new S3Client({
    region: location.region,
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
    forcePathStyle: location.forcePathStyle,
    ...(credentials ? { credentials } : {}),
    // Checksums are the client's, signed per part; the SDK must not add its own to presigned URLs.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export interface PresignBuildOptions {
  clock?: Clock;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Replace the JWT check with the app's own hook. */
  authorizer?: UploadAuthorizer;
}

/** The composition root of the presign function. */
export function buildUploadPresignDeps(
  config: UploadPresignConfig,
  options: PresignBuildOptions = {},
): PresignDeps {
  const clock = options.clock ?? systemClock;
  return {
    uploads: {
      policy: config.policy,
      store: new S3MultipartUploads(s3ClientFor(config.s3, options.credentials), config.bucket),
      sessions: new HmacUploadSessions(config.tokenKey),
      ids: { newId: () => randomBytes(16).toString("base64url") },
      clock,
    },
    authorizer: options.authorizer ?? new JwtUploadAuthorizer(config.auth, config.authKey, clock),
  };
}

/**
 * The handler as deployed: the environment is validated now, at cold start, so a misconfigured
 * function fails at init naming every problem; the keys are checked against the algorithms too.
 */
export function uploadPresignHandler(env: Readonly<Record<string, string | undefined>> = process.env) {
  const deps = buildUploadPresignDeps(parseUploadPresignConfig(env));
  return createUploadPresignHandler(() => deps);
}
