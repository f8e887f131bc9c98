import { once } from "node:events";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyInconsistentStateError,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
} from "@aws-lambda-powertools/idempotency";
import { ParseError } from "@aws-lambda-powertools/parser";
import {
  AppRunnerServiceException,
  InternalServiceErrorException,
  InvalidRequestException,
  InvalidStateException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
} from "@aws-sdk/client-apprunner";
import {
  ConditionalCheckFailedException,
  ThrottlingException as DynamoDBThrottlingException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  TransactionCanceledException,
  TransactionConflictException,
} from "@aws-sdk/client-dynamodb";
import {
  AccessDeniedException,
  ThrottlingException as InspectorThrottlingException,
  InternalServerException,
  ValidationException,
} from "@aws-sdk/client-inspector2";
import { KMSThrottlingException, ThrottledException } from "@aws-sdk/client-sns";
import { EventContractError, IgnoredEventError } from "@gantry/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { classifyError, type ErrorKind } from "../src/error-classifier.ts";
import { RuntimeConfigError } from "../src/runtime-config.ts";

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: "req-1", attempts: 3 });

/**
 * What the SDK throws for an error code the service model does not declare: the service's base
 * exception class carrying the wire error code as `name` (smithy `throwDefaultError`). App Runner
 * models no ThrottlingException, so this is exactly what an App Runner throttle looks like.
 */
const unmodeled = (name: string, httpStatusCode: number, $fault: "client" | "server" = "client") =>
  new AppRunnerServiceException({
    name,
    $fault,
    $metadata: meta(httpStatusCode),
    message: `${name} happened`,
  });

function zodError(): z.ZodError {
  const schema = z.object({ detail: z.object({ "image-digest": z.string().startsWith("sha256:") }) });
  const result = schema.safeParse({ detail: { "image-digest": "md5:hunter2-secret-value" } });
  if (result.success) throw new Error("fixture should not parse");
  return result.error;
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the function to throw");
}

/** A variable, so the pattern is compiled at run time (and tooling cannot turn it into a literal). */
const UNBALANCED_PATTERN = "[";

interface Case {
  label: string;
  error: () => unknown;
  kind: ErrorKind;
  reason?: RegExp;
}

const cases: Case[] = [
  // retry: throttling
  {
    label: "App Runner throttle (unmodeled ThrottlingException, 429)",
    error: () => unmodeled("ThrottlingException", 429),
    kind: "retry",
    reason: /throttled \(ThrottlingException\)/,
  },
  {
    label: "TooManyRequestsException",
    error: () => unmodeled("TooManyRequestsException", 429),
    kind: "retry",
  },
  { label: "Throttling (query protocols)", error: () => unmodeled("Throttling", 400), kind: "retry" },
  {
    label: "DynamoDB ThrottlingException",
    error: () => new DynamoDBThrottlingException({ message: "Rate exceeded", $metadata: meta(400) }),
    kind: "retry",
  },
  {
    label: "DynamoDB RequestLimitExceeded",
    error: () =>
      new RequestLimitExceeded({ message: "Throughput exceeds the account limit", $metadata: meta(400) }),
    kind: "retry",
  },
  {
    label: "DynamoDB ProvisionedThroughputExceededException",
    error: () => new ProvisionedThroughputExceededException({ message: "capacity", $metadata: meta(400) }),
    kind: "retry",
  },
  {
    label: "SNS ThrottledException",
    error: () => new ThrottledException({ message: "Rate exceeded", $metadata: meta(400) }),
    kind: "retry",
  },
  {
    label: "SNS KMSThrottlingException",
    error: () => new KMSThrottlingException({ message: "KMS throttled", $metadata: meta(400) }),
    kind: "retry",
  },
  {
    label: "Inspector ThrottlingException (modeled, $retryable.throttling)",
    error: () => new InspectorThrottlingException({ message: "slow down", $metadata: meta(429) }),
    kind: "retry",
  },
  {
    label: "an unknown code the SDK marks $retryable.throttling",
    error: () => Object.assign(unmodeled("BrandNewThrottle", 400), { $retryable: { throttling: true } }),
    kind: "retry",
    reason: /throttled \(BrandNewThrottle\)/,
  },
  // retry: server faults
  {
    label: "App Runner InternalServiceErrorException",
    error: () => new InternalServiceErrorException({ message: "unexpected", $metadata: meta(500) }),
    kind: "retry",
    reason: /server error \(InternalServiceErrorException, HTTP 500\)/,
  },
  {
    label: "DynamoDB InternalServerError",
    error: () => new InternalServerError({ message: "internal", $metadata: meta(500) }),
    kind: "retry",
  },
  {
    label: "Inspector InternalServerException",
    error: () => new InternalServerException({ message: "internal", $metadata: meta(500) }),
    kind: "retry",
  },
  { label: "an unnamed 503", error: () => unmodeled("UnknownError", 503, "server"), kind: "retry" },
  { label: "a 502 marked client fault", error: () => unmodeled("BadGateway", 502), kind: "retry" },
  // retry: App Runner busy
  {
    label: "App Runner InvalidStateException",
    error: () =>
      new InvalidStateException({
        message: "You can't perform this action when the resource is in its current state",
        $metadata: meta(400),
      }),
    kind: "retry",
    reason: /operation is in progress \(InvalidStateException\)/,
  },
  {
    label: "App Runner InvalidRequestException naming an operation in progress",
    error: () =>
      new InvalidRequestException({
        message: "Service cannot be updated while an operation is in progress",
        $metadata: meta(400),
      }),
    kind: "retry",
    reason: /operation is in progress \(InvalidRequestException\)/,
  },
  {
    label: "App Runner InvalidRequestException naming OPERATION_IN_PROGRESS",
    error: () =>
      new InvalidRequestException({
        message: "Service status is OPERATION_IN_PROGRESS",
        $metadata: meta(400),
      }),
    kind: "retry",
  },
  // retry: DynamoDB contention and Powertools idempotency
  {
    label: "DynamoDB TransactionConflictException",
    error: () => new TransactionConflictException({ message: "conflict", $metadata: meta(400) }),
    kind: "retry",
  },
  {
    label: "DynamoDB TransactionCanceledException cancelled by a conflict",
    error: () =>
      new TransactionCanceledException({
        message: "Transaction cancelled",
        $metadata: meta(400),
        CancellationReasons: [{ Code: "None" }, { Code: "TransactionConflict" }],
      }),
    kind: "retry",
  },
  {
    label: "Powertools IdempotencyAlreadyInProgressError",
    error: () => new IdempotencyAlreadyInProgressError("There is already an execution in progress"),
    kind: "retry",
  },
  {
    label: "Powertools IdempotencyInconsistentStateError",
    error: () => new IdempotencyInconsistentStateError("record changed"),
    kind: "retry",
  },
  {
    label: "Powertools persistence error caused by a DynamoDB throttle",
    error: () =>
      new IdempotencyPersistenceLayerError("Failed to save in progress record to idempotency store", {
        cause: new ProvisionedThroughputExceededException({ message: "capacity", $metadata: meta(400) }),
      }),
    kind: "retry",
    reason:
      /throttled \(ProvisionedThroughputExceededException\) \(cause of IdempotencyPersistenceLayerError\)/,
  },
  // drop: the event itself is bad
  {
    label: "EventContractError from @gantry/events",
    error: () =>
      new EventContractError({
        detailType: "ECR Image Action",
        field: "detail.image-digest",
        reason: "is required",
      }),
    kind: "drop",
    reason: /^event contract: ECR Image Action: detail\.image-digest: is required$/,
  },
  {
    label: "IgnoredEventError (its subclass for events Gantry does not act on)",
    error: () =>
      new IgnoredEventError({
        detailType: "ECR Image Action",
        field: "detail.action-type",
        reason: "DELETE",
      }),
    kind: "drop",
  },
  {
    // The runtime must not need the class itself (DESIGN: recognised structurally, by name).
    label: "any error named EventContractError",
    error: () => Object.assign(new Error("(event): not an object"), { name: "EventContractError" }),
    kind: "drop",
    reason: /^event contract: \(event\): not an object$/,
  },
  {
    label: "a further subclass of EventContractError that renamed itself",
    error: () => {
      class MisroutedEventError extends EventContractError {
        override name = "MisroutedEventError";
      }
      return new MisroutedEventError({ field: "source", reason: "unexpected" });
    },
    kind: "drop",
  },
  {
    label: "ZodError",
    error: zodError,
    kind: "drop",
    reason: /^invalid event \(ZodError\): detail\.image-digest: Invalid string: must start with "sha256:"$/,
  },
  {
    label: "Powertools parser ParseError",
    error: () => new ParseError("Failed to parse schema", { cause: zodError() }),
    kind: "drop",
    reason: /invalid event \(ParseError\): detail\.image-digest/,
  },
  {
    label: "SyntaxError from JSON.parse of a payload",
    error: () => thrownBy(() => JSON.parse("{not json")),
    kind: "drop",
    reason: /^event is not valid JSON/,
  },
  // fail: everything else
  {
    label: "AccessDeniedException",
    error: () => new AccessDeniedException({ message: "not authorized", $metadata: meta(403) }),
    kind: "fail",
    reason: /^not retriable: AccessDeniedException$/,
  },
  {
    label: "ValidationException",
    error: () =>
      new ValidationException({ message: "bad input", $metadata: meta(400), fields: [], reason: "OTHER" }),
    kind: "fail",
  },
  {
    label: "App Runner InvalidRequestException about a parameter",
    error: () =>
      new InvalidRequestException({
        message: "ImageIdentifier must match the pattern",
        $metadata: meta(400),
      }),
    kind: "fail",
  },
  {
    label: "App Runner ResourceNotFoundException",
    error: () => new ResourceNotFoundException({ message: "no such service", $metadata: meta(400) }),
    kind: "fail",
  },
  {
    label: "App Runner ServiceQuotaExceededException",
    error: () => new ServiceQuotaExceededException({ message: "quota", $metadata: meta(400) }),
    kind: "fail",
  },
  {
    label: "DynamoDB ConditionalCheckFailedException",
    error: () => new ConditionalCheckFailedException({ message: "condition", $metadata: meta(400) }),
    kind: "fail",
  },
  {
    label: "DynamoDB TransactionCanceledException by a failed condition",
    error: () =>
      new TransactionCanceledException({
        message: "Transaction cancelled",
        $metadata: meta(400),
        CancellationReasons: [{ Code: "ConditionalCheckFailed" }],
      }),
    kind: "fail",
  },
  {
    label: "Powertools IdempotencyValidationError",
    error: () => new IdempotencyValidationError("payload mismatch"),
    kind: "fail",
  },
  {
    label: "Powertools persistence error caused by AccessDenied",
    error: () =>
      new IdempotencyPersistenceLayerError("Failed to save", {
        cause: new AccessDeniedException({ message: "no", $metadata: meta(403) }),
      }),
    kind: "fail",
  },
  {
    label: "a ZodError wrapped as the cause of a store error (corrupt data, not a bad event)",
    error: () => new Error("ledger record unreadable", { cause: zodError() }),
    kind: "fail",
  },
  {
    label: "RuntimeConfigError",
    error: () => new RuntimeConfigError(["GANTRY_LEDGER_TABLE is required"]),
    kind: "fail",
  },
  {
    label: "SyntaxError that is not JSON (an invalid RegExp built at run time)",
    error: () => thrownBy(() => new RegExp(UNBALANCED_PATTERN)),
    kind: "fail",
  },
  {
    label: "TypeError (a bug)",
    error: () => thrownBy(() => (undefined as unknown as { x: () => void }).x()),
    kind: "fail",
  },
  {
    label: "a thrown string",
    error: () => "boom",
    kind: "fail",
    reason: /^not retriable: non-Error value thrown \(string\)$/,
  },
  { label: "undefined", error: () => undefined, kind: "fail" },
];

describe("classifyError", () => {
  it.each(cases)("$label → $kind", ({ error, kind, reason }) => {
    const classification = classifyError(error());

    expect(classification.kind).toBe(kind);
    if (reason) expect(classification.reason).toMatch(reason);
  });

  it("never puts the rejected value of a ZodError into the reason", () => {
    expect(classifyError(zodError()).reason).not.toContain("hunter2");
  });
});

describe("classifyError with real Node.js network errors", () => {
  let refusedPort: number;
  let resetServer: net.Server;

  beforeAll(async () => {
    const probe = net.createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    refusedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    resetServer = net.createServer((socket) => socket.resetAndDestroy()).listen(0, "127.0.0.1");
    await once(resetServer, "listening");
  });

  afterAll(async () => {
    await new Promise((resolve) => resetServer.close(resolve));
  });

  it("ECONNREFUSED from a socket → retry", async () => {
    const socket = net.connect({ port: refusedPort, host: "127.0.0.1" });
    const [error] = await once(socket, "error");

    expect(classifyError(error)).toEqual({ kind: "retry", reason: "network error (ECONNREFUSED)" });
  });

  it("ECONNRESET from an HTTP request → retry", async () => {
    const { port } = resetServer.address() as AddressInfo;
    const request = http.get({ port, host: "127.0.0.1", path: "/" });
    const [error] = await once(request, "error");

    expect(classifyError(error)).toEqual({ kind: "retry", reason: "network error (ECONNRESET)" });
  });

  it("fetch failed (TypeError with the socket error as cause) → retry", async () => {
    const error = await fetch(`http://127.0.0.1:${refusedPort}/`).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TypeError);
    expect(classifyError(error)).toEqual({
      kind: "retry",
      reason: "network error (ECONNREFUSED) (cause of TypeError)",
    });
  });

  it("an AbortSignal timeout (TimeoutError) → retry", async () => {
    const signal = AbortSignal.timeout(1);
    await once(signal, "abort");

    expect(classifyError(signal.reason)).toEqual({ kind: "retry", reason: "timed out (TimeoutError)" });
  });
});
