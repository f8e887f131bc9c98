/**
 * The one place that decides what a failed invocation means (DESIGN, "Errors"):
 *
 * - `retry`: throw, so the platform retries (Lambda async retries, then the on-failure destination).
 *   Throttling, 5xx, network trouble and "an operation is in progress" all clear up on their own.
 * - `drop`: return normally with a log line and a metric. The event itself is malformed or outside
 *   our contract; the same bytes will fail the same way on every retry.
 * - `fail`: throw, so the event lands in the dead-letter queue and trips its alarm. Everything we
 *   cannot prove to be transient or the event's fault: missing permissions, invalid requests, bugs.
 *
 * Errors are recognised structurally (by `name`, `code`, `$fault`, `$metadata`) rather than with
 * `instanceof`: bundling can load two copies of an SDK package, and the runtime must not depend on
 * every error class being importable (e.g. `EventContractError` lives in `@gantry/events`).
 */

export type ErrorKind = "retry" | "drop" | "fail";

export interface ErrorClassification {
  kind: ErrorKind;
  /** Short, log-safe explanation: error names and codes, never request or event payloads. */
  reason: string;
}

/**
 * Throttling codes the AWS SDK for JavaScript v3 itself retries (smithy-typescript
 * `service-error-classification/src/constants.ts`, FACTS §3). Mirrored here rather than imported
 * because that module is internal to `@smithy/core`.
 */
const THROTTLING_ERROR_NAMES = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
  // Not in the SDK's list, but SNS raises it when the KMS key of an encrypted topic is throttled.
  "KMSThrottlingException",
]);

/** Server-side faults that some services model as named exceptions (App Runner, DynamoDB, ...). */
const SERVER_ERROR_NAMES = new Set([
  "InternalFailure",
  "InternalServerError",
  "InternalServerException",
  "InternalServiceError",
  "InternalServiceErrorException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
]);

/** Timeouts raised by the SDK's HTTP handlers and by middy's early-timeout guard. */
const TIMEOUT_ERROR_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);

/** Node.js socket and DNS failures; all of them are worth another attempt later. */
const NETWORK_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/**
 * Cancellation reasons of a DynamoDB `TransactionCanceledException` that are contention or capacity,
 * not a failed condition (which is a business answer the ledger handles itself).
 */
const TRANSIENT_CANCELLATION_CODES = new Set([
  "TransactionConflict",
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
]);

/**
 * Powertools idempotency errors that mean "another invocation holds this key right now" or "the
 * record changed under us": a later attempt sees the finished record.
 */
const IDEMPOTENCY_RETRY_NAMES = new Set([
  "IdempotencyAlreadyInProgressError",
  "IdempotencyInconsistentStateError",
]);

/**
 * Slack (`@gantry/aws` slack-transport, `@gantry/core` threads): still rate limited or failing on
 * Slack's side after the transport's own retries, or another delivery writing the same thread.
 * Slack refusing the request itself (`SlackApiError`: bad token, unknown channel) is not here.
 */
const SLACK_RETRY_NAMES: ReadonlyMap<string, string> = new Map([
  ["SlackRateLimitedError", "Slack rate limited (429 after Retry-After)"],
  ["SlackServerError", "Slack server error (5xx after backoff)"],
  ["SlackThreadBusyError", "another delivery is writing the Slack thread"],
]);

/**
 * Errors that mean the incoming event breaks our contract. `IgnoredEventError` is the subclass
 * `@gantry/events` raises for a well-formed event Gantry deliberately does not act on.
 */
const EVENT_CONTRACT_ERROR_NAMES = new Set(["EventContractError", "IgnoredEventError"]);

/** Schema validation errors: zod 4 (`ZodError`, core `$ZodError`) and the Powertools parser. */
const SCHEMA_ERROR_NAMES = new Set(["ZodError", "$ZodError", "ParseError"]);

/**
 * App Runner answers a mutation on a busy service with InvalidStateException, and (FACTS §3,
 * UNVERIFIED which one) possibly with InvalidRequestException whose message names the state.
 * Matching the message is the only way to tell that apart from a genuinely invalid request.
 */
const OPERATION_IN_PROGRESS_MESSAGE = /in progress|OPERATION_IN_PROGRESS|invalid state|current state/i;

/** How deep to follow `cause` chains; wrappers nest one or two levels in practice. */
const MAX_CAUSE_DEPTH = 5;

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  Message?: unknown;
  code?: unknown;
  cause?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: unknown } | undefined;
  $metadata?: { httpStatusCode?: unknown } | undefined;
  CancellationReasons?: unknown;
}

export function classifyError(error: unknown): ErrorClassification {
  const drop = dropReason(error);
  if (drop) return { kind: "drop", reason: drop };

  const retry = retryReasonInChain(error);
  if (retry) return { kind: "retry", reason: retry };

  return { kind: "fail", reason: `not retriable: ${errorLabel(error)}` };
}

/**
 * Only the top-level error decides a drop: a ZodError wrapped inside, say, a ledger read error means
 * stored data is corrupt, which must reach the dead-letter queue rather than vanish.
 */
function dropReason(error: unknown): string | undefined {
  if (!isObject(error)) return undefined;
  const name = stringField(error, "name");
  if (isEventContractError(error)) return `event contract: ${messageOf(error) || name}`;
  if (name && SCHEMA_ERROR_NAMES.has(name)) return `invalid event (${name}): ${schemaSummary(error)}`;
  if (name === "SyntaxError" && /JSON/.test(messageOf(error))) {
    // At run time a SyntaxError only comes from JSON.parse (real syntax errors fail at load), i.e.
    // from decoding a string payload such as an SNS Message.
    return `event is not valid JSON: ${messageOf(error)}`;
  }
  return undefined;
}

/**
 * Wrappers (Powertools' IdempotencyPersistenceLayerError, `fetch failed` TypeErrors, our adapters)
 * keep the SDK or socket error as `cause`; a throttle hidden one level down is still a throttle.
 */
function retryReasonInChain(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && isObject(current); depth++) {
    const reason = retryReason(current);
    if (reason) return depth === 0 ? reason : `${reason} (cause of ${errorLabel(error)})`;
    current = current.cause;
  }
  return undefined;
}

function retryReason(error: ErrorShape): string | undefined {
  const name = typeof error.name === "string" ? error.name : "";
  const status = httpStatusOf(error);

  if (THROTTLING_ERROR_NAMES.has(name) || error.$retryable?.throttling === true || status === 429) {
    return `throttled (${name || `HTTP ${status}`})`;
  }
  if (SERVER_ERROR_NAMES.has(name) || error.$fault === "server" || (status !== undefined && status >= 500)) {
    return `server error (${name || "unnamed"}${status ? `, HTTP ${status}` : ""})`;
  }
  if (name === "InvalidStateException")
    return "resource busy: an operation is in progress (InvalidStateException)";
  if (name === "InvalidRequestException" && OPERATION_IN_PROGRESS_MESSAGE.test(messageOf(error))) {
    return "resource busy: an operation is in progress (InvalidRequestException)";
  }
  if (name === "TransactionConflictException")
    return "DynamoDB transaction conflict (TransactionConflictException)";
  if (name === "TransactionCanceledException" && hasTransientCancellation(error)) {
    return "DynamoDB transaction cancelled by contention (TransactionCanceledException)";
  }
  if (IDEMPOTENCY_RETRY_NAMES.has(name)) return `same event is being processed concurrently (${name})`;
  const slack = SLACK_RETRY_NAMES.get(name);
  if (slack) return `${slack} (${name})`;
  if (TIMEOUT_ERROR_NAMES.has(name)) return `timed out (${name})`;
  if (typeof error.code === "string" && NETWORK_ERROR_CODES.has(error.code))
    return `network error (${error.code})`;
  // Modeled errors carrying the smithy @retryable trait (the SDK sets `$retryable` for them).
  if (error.$retryable !== undefined && error.$retryable !== null) return `retryable per SDK model (${name})`;
  return undefined;
}

function isEventContractError(error: object): boolean {
  if (EVENT_CONTRACT_ERROR_NAMES.has(stringField(error, "name") ?? "")) return true;
  // A further subclass that renamed itself still has EventContractError in its prototype chain.
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === "EventContractError") return true;
  }
  return false;
}

/** zod issues as `path: message` (zod's messages state the expectation, never the received value). */
function schemaSummary(error: object): string {
  const zodError = stringField(error, "name") === "ParseError" ? (error as ErrorShape).cause : error;
  const issues = isObject(zodError) ? (zodError as { issues?: unknown }).issues : undefined;
  if (!Array.isArray(issues) || issues.length === 0) return messageOf(error) || "schema mismatch";
  const shown = issues.slice(0, 3).map(formatIssue);
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : "";
  return `${shown.join("; ")}${more}`;
}

function formatIssue(issue: unknown): string {
  if (!isObject(issue)) return "invalid";
  const { path, message } = issue as { path?: unknown; message?: unknown };
  const where = Array.isArray(path) && path.length > 0 ? path.map(String).join(".") : "(event)";
  return `${where}: ${typeof message === "string" ? message : "invalid"}`;
}

function hasTransientCancellation(error: ErrorShape): boolean {
  const reasons = error.CancellationReasons;
  if (!Array.isArray(reasons)) return false;
  return reasons.some((r) => isObject(r) && TRANSIENT_CANCELLATION_CODES.has(stringField(r, "Code") ?? ""));
}

function httpStatusOf(error: ErrorShape): number | undefined {
  const status = error.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** SDK errors carry the service's text in `message`, and for some modeled errors also `Message`. */
function messageOf(error: object): string {
  const shape = error as ErrorShape;
  if (typeof shape.message === "string" && shape.message) return shape.message;
  return typeof shape.Message === "string" ? shape.Message : "";
}

function errorLabel(error: unknown): string {
  if (isObject(error)) return stringField(error, "name") || "unnamed error";
  return `non-Error value thrown (${typeof error})`;
}

function stringField(value: object, key: string): string | undefined {
  const field = (value as Record<string, unknown>)[key];
  return typeof field === "string" ? field : undefined;
}

function isObject(value: unknown): value is object & ErrorShape {
  return typeof value === "object" && value !== null;
}
