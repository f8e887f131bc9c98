import { setTimeout as sleep } from "node:timers/promises";
import { ThrottlingException } from "@aws-sdk/client-dynamodb";
import { AccessDeniedException } from "@aws-sdk/client-inspector2";
import { EventContractError } from "@gantry/events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as z from "zod";
import {
  type Dropped,
  defaultCorrelationId,
  gantryHandler,
  type HandlerContext,
  localLambdaContext,
} from "../src/handler.ts";
import { logger, metrics } from "../src/observability.ts";

/** An `ECR Image Action` event as AWS documents it (FACTS §2), plus a marker in the payload. */
const PAYLOAD_MARKER = "payload-marker-must-never-be-logged";
const WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/WEBHOOKSECRET";

function imagePushEvent(overrides: Record<string, unknown> = {}) {
  return {
    version: "0",
    id: "13cde686-328b-6117-af20-0e5566167482",
    "detail-type": "ECR Image Action",
    source: "aws.ecr",
    account: "123456789012",
    time: "2019-11-16T01:54:34Z",
    region: "us-west-2",
    resources: [],
    detail: {
      result: "SUCCESS",
      "repository-name": "my-repository-name",
      "image-digest": "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
      "action-type": "PUSH",
      "image-tag": "latest",
      note: PAYLOAD_MARKER,
    },
    ...overrides,
  };
}

const imagePushSchema = z.object({
  id: z.string(),
  source: z.literal("aws.ecr"),
  detail: z.object({ "repository-name": z.string(), "image-digest": z.string().startsWith("sha256:") }),
});

interface ImagePush {
  repository: string;
  digest: string;
}

function parseImagePush(raw: unknown): ImagePush {
  const event = imagePushSchema.parse(raw);
  return { repository: event.detail["repository-name"], digest: event.detail["image-digest"] };
}

function eventContractError(reason: string): EventContractError {
  return new EventContractError({ detailType: "ECR Image Action", field: "detail.image-digest", reason });
}

// ---------------------------------------------------------------------------------------------
// Output capture: Powertools writes JSON log lines and EMF metric blobs to stdout/stderr.
// ---------------------------------------------------------------------------------------------

type JsonRecord = Record<string, unknown>;
let output: string[] = [];

beforeEach(() => {
  output = [];
  const capture = (chunk: string | Uint8Array) => {
    output.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(process.stderr, "write").mockImplementation(capture as typeof process.stderr.write);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function rawOutput(): string {
  return output.join("");
}

function records(): JsonRecord[] {
  return rawOutput()
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => JSON.parse(line) as JsonRecord);
}

function logLines(): JsonRecord[] {
  return records().filter((r) => typeof r.level === "string");
}

interface EmfBlob {
  namespace: string;
  dimensions: string[][];
  names: string[];
  record: JsonRecord;
}

function emfBlobs(): EmfBlob[] {
  return records().flatMap((record) => {
    const aws = record._aws as { CloudWatchMetrics?: Array<JsonRecord> } | undefined;
    const directive = aws?.CloudWatchMetrics?.[0];
    if (!directive) return [];
    return [
      {
        namespace: directive.Namespace as string,
        dimensions: directive.Dimensions as string[][],
        names: (directive.Metrics as Array<{ Name: string }>).map((m) => m.Name),
        record,
      },
    ];
  });
}

function metricTotal(name: string): number {
  return emfBlobs()
    .filter((blob) => blob.names.includes(name))
    .reduce((sum, blob) => sum + Number(blob.record[name]), 0);
}

// ---------------------------------------------------------------------------------------------

describe("gantryHandler: the happy path", () => {
  it("hands the parsed event and the EventBridge id to handle, and returns its result", async () => {
    const handle = vi.fn(async (event: ImagePush, ctx: HandlerContext) => {
      ctx.logger.info("Recording release candidate", { repository: event.repository });
      return { recorded: event.digest, correlationId: ctx.correlationId };
    });
    const handler = gantryHandler({ name: "image-push", parse: parseImagePush, handle });

    const result = await handler(imagePushEvent(), localLambdaContext("image-push"));

    expect(result).toEqual({
      recorded: "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
      correlationId: "13cde686-328b-6117-af20-0e5566167482",
    });
    expect(handle).toHaveBeenCalledOnce();
    const [event, ctx] = handle.mock.calls[0] ?? [];
    expect(event).toEqual({
      repository: "my-repository-name",
      digest: "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
    });
    expect(ctx?.logger).toBe(logger);
    expect(ctx?.metrics).toBe(metrics);
    expect(ctx?.lambdaContext.functionName).toBe("image-push");
  });

  it("puts the correlation id, handler name and event labels on the lines handle logs", async () => {
    const handler = gantryHandler({
      name: "image-push",
      parse: parseImagePush,
      handle: async (_event, ctx) => {
        ctx.logger.info("inside handle");
        return null;
      },
    });

    await handler(imagePushEvent(), localLambdaContext("image-push"));

    const line = logLines().find((l) => l.message === "inside handle");
    expect(line).toMatchObject({
      level: "INFO",
      correlation_id: "13cde686-328b-6117-af20-0e5566167482",
      handler: "image-push",
      event_source: "aws.ecr",
      event_detail_type: "ECR Image Action",
      function_name: "image-push",
    });
  });

  it("emits EventsHandled in the Gantry namespace with the handler as a dimension", async () => {
    const handler = gantryHandler({ name: "image-push", parse: parseImagePush, handle: async () => null });

    await handler(imagePushEvent(), localLambdaContext("image-push"));

    const blob = emfBlobs().find((b) => b.names.includes("EventsHandled"));
    expect(blob?.namespace).toBe("Gantry");
    expect(blob?.dimensions).toEqual([["service", "handler"]]);
    expect(blob?.record).toMatchObject({ handler: "image-push", service: "gantry", EventsHandled: 1 });
    expect(metricTotal("EventsDropped") + metricTotal("HandlerFailures")).toBe(0);
  });

  it("does not carry one invocation's correlation id into the next", async () => {
    const seen: string[] = [];
    const handler = gantryHandler({
      name: "scheduled",
      parse: (raw) => raw,
      handle: async (_event, ctx) => {
        ctx.logger.info("tick");
        seen.push(ctx.correlationId);
        return null;
      },
    });
    const second = localLambdaContext("scheduled");

    await handler({ id: "first-event" }, localLambdaContext("scheduled"));
    await handler({}, second);

    expect(seen).toEqual(["first-event", second.awsRequestId]);
    expect(
      logLines()
        .filter((l) => l.message === "tick")
        .map((l) => l.correlation_id),
    ).toEqual(seen);
  });

  it("rejects an empty name at construction", () => {
    expect(() => gantryHandler({ name: " ", parse: (raw) => raw, handle: async () => null })).toThrow(/name/);
  });
});

describe("gantryHandler: drop, retry, fail", () => {
  it("drops an EventContractError: returns {dropped}, never calls handle, logs a warning and a metric", async () => {
    const handle = vi.fn(async () => null);
    const handler = gantryHandler({
      name: "image-push",
      parse: () => {
        throw eventContractError("is required");
      },
      handle,
    });

    const result = await handler(imagePushEvent(), localLambdaContext("image-push"));

    const expected: Dropped = {
      dropped: true,
      reason: "event contract: ECR Image Action: detail.image-digest: is required",
    };
    expect(result).toEqual(expected);
    expect(handle).not.toHaveBeenCalled();
    expect(metricTotal("EventsDropped")).toBe(1);
    expect(emfBlobs().find((b) => b.names.includes("EventsDropped"))?.record.reason).toBe(expected.reason);
    expect(logLines().find((l) => l.level === "WARN")).toMatchObject({
      message: "Event dropped: retrying cannot help",
      reason: expected.reason,
      correlation_id: "13cde686-328b-6117-af20-0e5566167482",
      error: { name: "EventContractError" },
    });
  });

  it("drops an event the zod schema rejects, naming the field", async () => {
    const handler = gantryHandler({ name: "image-push", parse: parseImagePush, handle: async () => null });
    const event = imagePushEvent();

    const result = await handler(
      { ...event, detail: { ...event.detail, "image-digest": "latest" } },
      localLambdaContext("image-push"),
    );

    expect(result).toEqual({
      dropped: true,
      reason: expect.stringMatching(/^invalid event \(ZodError\): detail\.image-digest/),
    });
    expect(metricTotal("EventsDropped")).toBe(1);
  });

  it("rethrows a retriable SDK error unchanged and counts it", async () => {
    const throttle = new ThrottlingException({
      message: "Rate exceeded",
      $metadata: { httpStatusCode: 400 },
    });
    const handler = gantryHandler({
      name: "image-push",
      parse: parseImagePush,
      handle: async () => {
        throw throttle;
      },
    });

    await expect(handler(imagePushEvent(), localLambdaContext("image-push"))).rejects.toBe(throttle);

    expect(metricTotal("RetriableErrors")).toBe(1);
    expect(metricTotal("EventsDropped") + metricTotal("HandlerFailures")).toBe(0);
    expect(logLines().find((l) => l.level === "WARN")).toMatchObject({
      message: "Retriable error: rethrowing so the platform retries",
      reason: "throttled (ThrottlingException)",
      error: { name: "ThrottlingException", httpStatusCode: 400, fault: "client" },
    });
  });

  it("rethrows a failure unchanged, logs it as an error and counts it", async () => {
    const denied = new AccessDeniedException({
      message: "not authorized",
      $metadata: { httpStatusCode: 403 },
    });
    const handler = gantryHandler({
      name: "image-scan",
      parse: parseImagePush,
      handle: async () => {
        throw denied;
      },
    });

    await expect(handler(imagePushEvent(), localLambdaContext("image-scan"))).rejects.toBe(denied);

    expect(metricTotal("HandlerFailures")).toBe(1);
    expect(metricTotal("RetriableErrors")).toBe(0);
    const line = logLines().find((l) => l.level === "ERROR");
    expect(line).toMatchObject({
      message: "Handler failed: rethrowing to the on-failure destination",
      reason: "not retriable: AccessDeniedException",
      error: { name: "AccessDeniedException", message: "not authorized", httpStatusCode: 403 },
    });
    expect(line?.error).toHaveProperty("stack", expect.stringContaining("AccessDeniedException"));
  });

  it("turns middy's early timeout into a retriable TimeoutError and aborts handle's signal", async () => {
    let release: () => void = () => undefined;
    let signal: AbortSignal | undefined;
    const abandoned = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished: Promise<unknown> = Promise.resolve();
    const handler = gantryHandler({
      name: "slow",
      parse: (raw) => raw,
      handle: async (_event, ctx) => {
        signal = ctx.signal;
        const done = abandoned.then(() => null);
        finished = done;
        return done;
      },
    });

    const outcome = handler({ id: "slow-1" }, localLambdaContext("slow", { timeoutMs: 100 }));

    await expect(outcome).rejects.toMatchObject({ name: "TimeoutError" });
    expect(signal?.aborted).toBe(true);
    expect(metricTotal("RetriableErrors")).toBe(1);
    // The abandoned run completing later must not be counted as handled.
    release();
    await finished;
    await sleep(0);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});

describe("gantryHandler: nothing secret reaches the logs", () => {
  it("never logs the event payload, whatever the outcome", async () => {
    const outcomes = [
      async () => null,
      async () => {
        throw new AccessDeniedException({ message: "no", $metadata: { httpStatusCode: 403 } });
      },
      async () => {
        throw eventContractError("bad");
      },
    ];
    for (const handle of outcomes) {
      const handler = gantryHandler({ name: "image-push", parse: parseImagePush, handle });
      await handler(imagePushEvent(), localLambdaContext("image-push")).catch(() => undefined);
    }

    expect(logLines().length).toBeGreaterThan(0);
    expect(rawOutput()).not.toContain(PAYLOAD_MARKER);
  });

  it("does not log the event even when POWERTOOLS_LOGGER_LOG_EVENT=true", async () => {
    // Powertools reads the variable when the logger is constructed: load a fresh runtime with it set.
    vi.stubEnv("POWERTOOLS_LOGGER_LOG_EVENT", "true");
    vi.resetModules();
    try {
      const fresh = await import("../src/handler.ts");
      const freshObservability = await import("../src/observability.ts");
      const handler = fresh.gantryHandler({
        name: "image-push",
        parse: parseImagePush,
        handle: async () => null,
      });

      await handler(imagePushEvent(), fresh.localLambdaContext("image-push"));

      expect(freshObservability.logger.getLogEvent()).toBe(true);
      expect(metricTotal("EventsHandled")).toBe(1);
      expect(rawOutput()).not.toContain(PAYLOAD_MARKER);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("redacts secret-looking keys and webhook URLs in what handle logs", async () => {
    const handler = gantryHandler({
      name: "notify",
      parse: (raw) => raw,
      handle: async (_event, ctx) => {
        ctx.logger.info("posting", {
          slack: { webhookUrl: WEBHOOK, botToken: "xoxb-1-2" },
          channel: "#deploys",
        });
        ctx.logger.info(`posting to ${WEBHOOK}`);
        return null;
      },
    });

    await handler({ id: "n-1" }, localLambdaContext("notify"));

    expect(rawOutput()).not.toContain("WEBHOOKSECRET");
    expect(rawOutput()).not.toContain("xoxb-1-2");
    expect(logLines().find((l) => l.message === "posting")).toMatchObject({
      slack: { webhookUrl: "[REDACTED]", botToken: "[REDACTED]" },
      channel: "#deploys",
    });
  });

  it("redacts a webhook URL quoted in an error message, in the log and in the returned reason", async () => {
    const failing = gantryHandler({
      name: "notify",
      parse: (raw) => raw,
      handle: async () => {
        throw new Error(`POST ${WEBHOOK} answered 403`);
      },
    });
    const dropping = gantryHandler({
      name: "notify-drop",
      parse: () => {
        throw eventContractError(`contains ${WEBHOOK}`);
      },
      handle: async () => null,
    });

    await expect(failing({ id: "n-2" }, localLambdaContext("notify"))).rejects.toThrow(/answered 403/);
    const dropped = await dropping({ id: "n-3" }, localLambdaContext("notify-drop"));

    expect(dropped).toEqual({
      dropped: true,
      reason:
        "event contract: ECR Image Action: detail.image-digest: contains https://hooks.slack.com/[REDACTED]",
    });
    expect(rawOutput()).toContain("https://hooks.slack.com/[REDACTED]");
    expect(rawOutput()).not.toContain("WEBHOOKSECRET");
  });
});

describe("correlation ids", () => {
  it.each([
    ["EventBridge id", imagePushEvent(), "13cde686-328b-6117-af20-0e5566167482"],
    [
      "SNS MessageId",
      { Records: [{ EventSource: "aws:sns", Sns: { MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e" } }] },
      "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
    ],
    [
      "API Gateway requestId",
      { requestContext: { requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" } },
      "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    ],
    ["nothing recognisable", { hello: "world" }, undefined],
    ["not an object", "a string", undefined],
  ])("default extractor: %s", (_label, raw, expected) => {
    expect(defaultCorrelationId(raw)).toBe(expected);
  });

  it("uses a custom extractor, and falls back to the Lambda request id when it finds nothing or throws", async () => {
    const seen: string[] = [];
    const handler = gantryHandler({
      name: "custom",
      parse: (raw) => raw as { ref?: string },
      handle: async (_event, ctx) => {
        seen.push(ctx.correlationId);
        return null;
      },
      correlationId: (raw) => {
        if (raw === null) throw new Error("cannot read");
        return (raw as { ref?: string }).ref;
      },
    });
    const missing = localLambdaContext("custom");
    const throwing = localLambdaContext("custom");

    await handler({ ref: "upload-42" }, localLambdaContext("custom"));
    await handler({}, missing);
    await handler(null, throwing);

    expect(seen).toEqual(["upload-42", missing.awsRequestId, throwing.awsRequestId]);
  });
});

describe("localLambdaContext", () => {
  it("builds a complete Context whose remaining time counts down from the timeout", async () => {
    const context = localLambdaContext("image-push", { timeoutMs: 5_000, region: "eu-west-1" });

    expect(context).toMatchObject({
      functionName: "image-push",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:image-push",
      logGroupName: "/aws/lambda/image-push",
      callbackWaitsForEmptyEventLoop: false,
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    const before = context.getRemainingTimeInMillis();
    await sleep(30);
    expect(before).toBeLessThanOrEqual(5_000);
    expect(before).toBeGreaterThan(4_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThan(before);
    expect(() => context.succeed("x")).toThrow(/legacy callback API/);
  });

  it("gives every invocation its own request id", () => {
    expect(localLambdaContext("a").awsRequestId).not.toBe(localLambdaContext("a").awsRequestId);
  });
});
