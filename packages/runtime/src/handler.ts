/**
 * The Lambda shell every Gantry function shares: one middy stack, so each `functions/<name>.ts` is
 * only "parse → use case". The same handler runs in Lambda and in the sandbox; the sandbox invokes
 * it with an EventBridge event and `localLambdaContext(name)`.
 *
 * Stack, outermost first:
 *   tracer → logger context (+ correlation id) → metrics → invocation context → error classifier
 *   → idempotency (optional) → parse → handle
 * Middy runs `onError` hooks innermost first, so on a failure the idempotency record is released
 * before the classifier decides, and the classifier's log line and metric are written while the
 * logger still carries the correlation id and before the metrics buffer is flushed.
 */
import { randomUUID } from "node:crypto";
import { IdempotencyConfig } from "@aws-lambda-powertools/idempotency";
import { makeHandlerIdempotent } from "@aws-lambda-powertools/idempotency/middleware";
import type { BasePersistenceLayer } from "@aws-lambda-powertools/idempotency/persistence";
import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy, {
  type MiddlewareObj,
  type MiddyfiedHandler,
  type MiddyHandlerObject,
  type Request,
} from "@middy/core";
import type { Context } from "aws-lambda";
import { classifyError } from "./error-classifier.ts";
import { logger, metrics, redactText, tracer } from "./observability.ts";

/** What `handle` gets besides the event. */
export interface HandlerContext {
  logger: Logger;
  metrics: Metrics;
  /** EventBridge `id`, SNS `MessageId`, API Gateway `requestId`, else the Lambda request id. */
  correlationId: string;
  lambdaContext: Context;
  /** Aborted just before the Lambda timeout, when the invocation has already been failed as retriable. */
  signal: AbortSignal;
}

export interface HandlerIdempotency {
  /**
   * May be shared by handlers with the same key path and TTL (Powertools applies a store's settings
   * once); keys are prefixed with the handler name, so one table serves every function.
   */
  persistenceStore: BasePersistenceLayer;
  /** JMESPath to the raw event's key; default `id` (the EventBridge event id). */
  eventKeyJmesPath?: string;
  /** How long a completed record suppresses duplicates; default 6 h. */
  expiresAfterSeconds?: number;
}

/**
 * `TResult` must not be `undefined`: Powertools replays a stored result through middy's early
 * return, which middy only recognises for values other than `undefined` (middyjs/middy#1236).
 * It must also survive a JSON round trip, since duplicates receive the stored copy.
 */
export interface GantryHandlerOptions<TEvent, TResult extends NonNullable<unknown> | null> {
  /** Logical function name, e.g. `image-push`: log key, metric dimension, idempotency key prefix. */
  name: string;
  /** Turns the raw event into the domain input; throws (e.g. EventContractError) on bad input. */
  parse: (raw: unknown) => TEvent;
  handle: (event: TEvent, ctx: HandlerContext) => Promise<TResult>;
  correlationId?: (raw: unknown) => string | undefined;
  /**
   * Delivery-level de-duplication on the raw event key. Business-key idempotency (service + digest,
   * service + operation id) lives in core and the ledger and is what correctness relies on.
   */
  idempotency?: HandlerIdempotency | false;
}

export interface Dropped {
  dropped: true;
  reason: string;
}

export type GantryHandler<TResult> = MiddyfiedHandler<unknown, TResult | Dropped, Error, Context>;

/** Metric names the dashboards and alarms refer to. */
export const HANDLER_METRICS = {
  handled: "EventsHandled",
  dropped: "EventsDropped",
  retriable: "RetriableErrors",
  failed: "HandlerFailures",
  duplicate: "DuplicateEvents",
} as const;

/** Lambda's async retry window: events can be redelivered for up to 6 hours (FACTS §6). */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 6 * 60 * 60;
const DEFAULT_IDEMPOTENCY_KEY_PATH = "id";
/** Event labels come from the event; cap them so a hostile payload cannot bloat every log line. */
const MAX_LABEL_LENGTH = 256;

export function gantryHandler<TEvent, TResult extends NonNullable<unknown> | null>(
  options: GantryHandlerOptions<TEvent, TResult>,
): GantryHandler<TResult> {
  if (!options.name.trim()) throw new Error("gantryHandler: `name` must be a non-empty function name");
  const storesResult = Boolean(options.idempotency);
  const correlationIdOf = (raw: unknown, context: Context) =>
    resolveCorrelationId(raw, context, options.correlationId);

  const run = async (
    raw: unknown,
    context: Context,
    { signal }: MiddyHandlerObject,
  ): Promise<TResult | Dropped> => {
    const event = options.parse(raw);
    const result = await options.handle(event, {
      logger,
      metrics,
      correlationId: correlationIdOf(raw, context),
      lambdaContext: context,
      signal,
    });
    // After a timeout middy has already answered with a TimeoutError; an abandoned run finishing
    // late must not count as handled (nor leave a metric in the buffer of the next invocation).
    if (!signal.aborted) metrics.addMetric(HANDLER_METRICS.handled, MetricUnit.Count, 1);
    return storesResult ? asStored(result) : result;
  };

  const handler = middy<unknown, TResult | Dropped, Error, Context>(run)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    // `logEvent: false` overrides POWERTOOLS_LOGGER_LOG_EVENT: whole events are never logged.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(invocationContext(options.name, correlationIdOf))
    .use(errorClassification());

  if (options.idempotency) handler.use(idempotency(options.name, options.idempotency));
  return handler;
}

/** Correlation id and event labels on every log line; the function's name on every metric. */
function invocationContext(
  name: string,
  correlationIdOf: (raw: unknown, context: Context) => string,
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    before: (request) => {
      logger.setCorrelationId(correlationIdOf(request.event, request.context));
      logger.appendKeys({ handler: name, ...eventLabels(request.event) });
      metrics.addDimension("handler", name);
      logger.debug("Event received");
    },
  };
}

/**
 * Applies `classifyError` to whatever failed: parse, handle, or a middleware (the idempotency
 * store). It never returns a value, because middy treats a returned value as "stop the onError
 * chain", which would skip the metrics flush and logger reset registered earlier.
 */
function errorClassification(): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    onError: (request) => {
      const { kind, reason: rawReason } = classifyError(request.error);
      const reason = redactText(rawReason);
      const error = describeError(request.error, kind === "fail");
      if (kind === "drop") {
        logger.warn("Event dropped: retrying cannot help", { reason, error });
        recordMetric(HANDLER_METRICS.dropped, reason);
        request.response = { dropped: true, reason } satisfies Dropped;
      } else if (kind === "retry") {
        logger.warn("Retriable error: rethrowing so the platform retries", { reason, error });
        recordMetric(HANDLER_METRICS.retriable, reason);
      } else {
        logger.error("Handler failed: rethrowing to the on-failure destination", { reason, error });
        recordMetric(HANDLER_METRICS.failed, reason);
      }
    },
  };
}

function recordMetric(name: string, reason: string): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
  // Metadata lands in the EMF log line only (no extra metric cost) and says why.
  metrics.addMetadata("reason", reason);
}

/**
 * The result as the idempotency store will hold it. Duplicates get the stored copy, so the first
 * caller gets the same JSON shape; it also drops `undefined` fields, which DynamoDB's marshaller
 * rejects when Powertools saves the result.
 */
function asStored<T>(result: T): T {
  return result === null ? result : (JSON.parse(JSON.stringify(result)) as T);
}

/** The settings each persistence store was first configured with, and by which handler. */
const storeSettings = new WeakMap<
  BasePersistenceLayer,
  { handler: string; eventKeyJmesPath: string; expiresAfterSeconds: number }
>();

/**
 * Powertools' `makeHandlerIdempotent` with two corrections.
 *
 * 1. In 2.35 its `onError` deletes the record for the current payload whenever anything failed,
 *    including its own `before` rejecting a duplicate with IdempotencyAlreadyInProgressError: the
 *    duplicate deletes the lock of the invocation still running, and the next delivery runs the
 *    handler a second time (powertools-lambda-typescript#5675, fixed upstream by #5676). Here the
 *    record is released only by the invocation that acquired it, and not after a failed save of a
 *    successful result (the side effects already happened).
 * 2. A store keeps one mutable key prefix, set in `before`. Handlers sharing a store in one process
 *    (the sandbox) can interleave, so another handler's `before` could re-prefix the key this
 *    invocation completes or deletes. The prefix is pinned again right before those calls: the
 *    store derives the key synchronously on entry, so nothing can interleave in between.
 */
function idempotency(
  name: string,
  settings: HandlerIdempotency,
): MiddlewareObj<unknown, unknown, Error, Context> {
  const store = settings.persistenceStore;
  const eventKeyJmesPath = settings.eventKeyJmesPath ?? DEFAULT_IDEMPOTENCY_KEY_PATH;
  const expiresAfterSeconds = settings.expiresAfterSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS;
  claimStore(store, { handler: name, eventKeyJmesPath, expiresAfterSeconds });
  const config = new IdempotencyConfig({
    eventKeyJmesPath,
    expiresAfterSeconds,
    responseHook: (response) => {
      logger.info("Duplicate event: returning the result stored by the first invocation");
      metrics.addMetric(HANDLER_METRICS.duplicate, MetricUnit.Count, 1);
      return response;
    },
  });
  // An explicit prefix: in Lambda Powertools would use AWS_LAMBDA_FUNCTION_NAME, which the
  // sandbox does not set, and handlers sharing a table must never share keys.
  const inner = makeHandlerIdempotent({ persistenceStore: store, config, keyPrefix: name });
  const pinKeyPrefix = () => store.configure({ config, keyPrefix: name });
  const owners = new WeakSet<object>();

  return {
    before: async (request) => {
      const replay = await inner.before?.(asPowertoolsRequest(request));
      // `undefined` means no stored result: this invocation now holds the in-progress record
      // (or idempotency was skipped, which the inner hooks track themselves).
      if (replay === undefined) owners.add(request);
      return replay;
    },
    after: async (request) => {
      owners.delete(request);
      pinKeyPrefix();
      await inner.after?.(asPowertoolsRequest(request));
    },
    onError: async (request) => {
      if (!owners.has(request)) return;
      owners.delete(request);
      pinKeyPrefix();
      await inner.onError?.(asPowertoolsRequest(request));
    },
  };
}

/**
 * Powertools applies a store's settings once, from the first handler that uses it; a second handler
 * with a different key path or TTL would silently be keyed by the first one's. Refuse that early.
 */
function claimStore(
  store: BasePersistenceLayer,
  claim: { handler: string; eventKeyJmesPath: string; expiresAfterSeconds: number },
): void {
  const first = storeSettings.get(store);
  if (!first) {
    storeSettings.set(store, claim);
    return;
  }
  const differing = (["eventKeyJmesPath", "expiresAfterSeconds"] as const).filter(
    (key) => first[key] !== claim[key],
  );
  if (differing.length > 0) {
    throw new Error(
      `gantryHandler: handlers "${first.handler}" and "${claim.handler}" share an idempotency persistence ` +
        `store but differ in ${differing.join(" and ")}; give each its own store`,
    );
  }
}

/** middy's and Powertools' request types describe the same object with different generics. */
function asPowertoolsRequest(request: Request<unknown, unknown, Error, Context>) {
  return request as Parameters<NonNullable<ReturnType<typeof makeHandlerIdempotent>["before"]>>[0];
}

/** A log-safe summary; logging the Error itself would serialise every enumerable field. */
export function describeError(error: unknown, withStack = false, depth = 0): Record<string, unknown> {
  if (typeof error !== "object" || error === null) {
    return { name: "NonError", message: redactText(String(error)) };
  }
  const shape = error as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    stack?: unknown;
    cause?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  };
  const summary: Record<string, unknown> = {
    name: typeof shape.name === "string" ? shape.name : "UnnamedError",
    message: typeof shape.message === "string" ? redactText(shape.message) : "",
  };
  if (typeof shape.code === "string") summary.code = shape.code;
  if (typeof shape.$fault === "string") summary.fault = shape.$fault;
  if (typeof shape.$metadata?.httpStatusCode === "number")
    summary.httpStatusCode = shape.$metadata.httpStatusCode;
  if (typeof shape.$metadata?.requestId === "string") summary.awsRequestId = shape.$metadata.requestId;
  if (withStack && typeof shape.stack === "string") summary.stack = redactText(shape.stack);
  if (shape.cause !== undefined && depth < 3) summary.cause = describeError(shape.cause, false, depth + 1);
  return summary;
}

function resolveCorrelationId(
  raw: unknown,
  context: Context,
  custom: ((raw: unknown) => string | undefined) | undefined,
): string {
  let id: string | undefined;
  try {
    id = (custom ?? defaultCorrelationId)(raw);
  } catch {
    // A malformed event must still get a correlation id; parse will report what is wrong with it.
    id = undefined;
  }
  return id?.trim() ? id : context.awsRequestId;
}

/** EventBridge `id`, SNS `Records[0].Sns.MessageId`, API Gateway / function URL `requestId`. */
export function defaultCorrelationId(raw: unknown): string | undefined {
  if (!isRecord(raw)) return undefined;
  if (typeof raw.id === "string") return raw.id;
  const first = Array.isArray(raw.Records) ? raw.Records[0] : undefined;
  if (isRecord(first) && isRecord(first.Sns) && typeof first.Sns.MessageId === "string") {
    return first.Sns.MessageId;
  }
  if (isRecord(raw.requestContext) && typeof raw.requestContext.requestId === "string") {
    return raw.requestContext.requestId;
  }
  return undefined;
}

/**
 * The only parts of an event that are ever logged: EventBridge `source` and `detail-type` (the id
 * is the correlation id) or the SNS record's `EventSource`. Payloads may carry secrets or noise.
 */
function eventLabels(raw: unknown): Record<string, string> {
  if (!isRecord(raw)) return {};
  const labels: Record<string, string> = {};
  if (typeof raw.source === "string") labels.event_source = raw.source.slice(0, MAX_LABEL_LENGTH);
  if (typeof raw["detail-type"] === "string") {
    labels.event_detail_type = raw["detail-type"].slice(0, MAX_LABEL_LENGTH);
  }
  const first = Array.isArray(raw.Records) ? raw.Records[0] : undefined;
  if (isRecord(first) && typeof first.EventSource === "string") {
    labels.event_source = first.EventSource.slice(0, MAX_LABEL_LENGTH);
  }
  return labels;
}

export interface LocalContextOptions {
  /** The function's timeout; `getRemainingTimeInMillis` counts down from it. Default 60 s. */
  timeoutMs?: number;
  region?: string;
  accountId?: string;
  memoryLimitInMB?: number;
}

const DEFAULT_LOCAL_TIMEOUT_MS = 60_000;
const LOCAL_ACCOUNT_ID = "000000000000";

/**
 * A Lambda `Context` for invoking a handler outside Lambda (sandbox, tests). Build one per
 * invocation: it carries a fresh request id and a deadline. `getRemainingTimeInMillis` counts real
 * time, because middy's early-timeout guard and Powertools' in-progress expiry both measure it.
 */
export function localLambdaContext(functionName: string, options: LocalContextOptions = {}): Context {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCAL_TIMEOUT_MS;
  const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const deadline = Date.now() + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
  const legacyCallback = (method: string) => (): never => {
    throw new Error(`context.${method}() is the legacy callback API; Gantry handlers are async`);
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 256),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll("-", "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacyCallback("done"),
    fail: legacyCallback("fail"),
    succeed: legacyCallback("succeed"),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
