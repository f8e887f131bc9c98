/**
 * Bad input, handlers: random and mutated events sent straight to the deployed handlers (a Lambda
 * can be invoked with anything: a misrouted rule, a hand-made test event, a replay tool). Through
 * the whole middy stack, on DynamoDB Local and the emulators, each invocation must end one of three
 * ways, and never with a crash:
 *
 * - dropped: `{ dropped: true, reason }`, the "Event dropped" warning with that reason, the
 *   EventsDropped metric, and not one byte changed in the ledger or the idempotency table;
 * - refused by throwing a classified error (e.g. a well-formed event naming a service that does
 *   not exist): logged by the classifier, never a TypeError-like crash, and again no write;
 * - accepted: only when the handler's own parser accepts the event (cross-checked).
 */
import { randomUUID } from "node:crypto";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { parseAwsEvent, parseEcrImagePushEvent, parseRetryJob } from "@gantry/events";
import { localCredentials, type Sandbox } from "@gantry/local";
import {
  buildAppContext,
  classifyError,
  createGantryHandlers,
  localLambdaContext,
  logger,
  metrics,
} from "@gantry/runtime";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { startSandbox } from "../chaos/chaos-support.ts";
import { anyJson, mutated, samples } from "./bad-input-support.ts";

type HandlerName = "imagePush" | "imageScan" | "appRunnerEvent" | "retry";

/** What each handler's parser accepts, mirrored from gantry-handlers.ts to cross-check "accepted". */
const ACCEPTS: Record<HandlerName, (raw: unknown) => boolean> = {
  imagePush: (raw) => succeeds(() => parseEcrImagePushEvent(raw)),
  imageScan: (raw) => succeeds(() => parseAwsEvent(raw).kind === "image-scan-completed"),
  appRunnerEvent: (raw) =>
    succeeds(() =>
      [
        "apprunner-operation-status-changed",
        "apprunner-service-status-changed",
        "apprunner-pause-called",
      ].includes(parseAwsEvent(raw).kind),
    ),
  retry: (raw) => succeeds(() => parseRetryJob(raw)),
};

const SAMPLES: Record<HandlerName, unknown[]> = {
  imagePush: [samples.push],
  imageScan: [samples.basicScan, samples.inspectorScan],
  appRunnerEvent: [samples.operation, samples.serviceStatus, samples.pauseCall],
  retry: [samples.retryJob],
};

const INTRINSIC_CRASHES = new Set([
  "TypeError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "InternalError",
]);

function succeeds(check: () => unknown): boolean {
  try {
    return check() !== false;
  } catch {
    return false;
  }
}

let sandbox: Sandbox;
let handlers: ReturnType<typeof createGantryHandlers>;
let dynamodb: DynamoDBClient;
const tally = new Map<HandlerName, { dropped: number; refused: number; accepted: number }>();

/** Every item of both tables, as DynamoDB returns them: the "no partial write" yardstick. */
async function snapshot(): Promise<string> {
  const tables = [sandbox.runtime.ledgerTable, sandbox.runtime.idempotencyTable];
  const contents = await Promise.all(
    tables.map(async (TableName) => {
      const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName, ConsistentRead: true }));
      return Items.map((item) => JSON.stringify(item, Object.keys(item).sort())).sort();
    }),
  );
  return JSON.stringify(contents);
}

/** EventBridge ids are unique per event: a reused id would (rightly) get the stored result back. */
function withFreshId(raw: unknown): unknown {
  if (
    raw &&
    typeof raw === "object" &&
    !Array.isArray(raw) &&
    typeof (raw as { id?: unknown }).id === "string"
  )
    return { ...raw, id: randomUUID() };
  return raw;
}

describe("bad input: handlers drop malformed events with a logged reason and write nothing", () => {
  beforeAll(async () => {
    sandbox = await startSandbox();
    sandbox.createService({ name: "storefront", image: "my-repository-name:latest" });
    const context = buildAppContext(sandbox.runtime, sandbox.config, {
      clock: sandbox.clock,
      credentials: localCredentials,
      maxAttempts: 1,
      scheduler: sandbox.scheduler,
    });
    handlers = createGantryHandlers(() => context);
    dynamodb = new DynamoDBClient({
      endpoint: inject("dynamodbEndpoint"),
      region: "us-east-1",
      credentials: localCredentials,
    });
  });

  afterAll(async () => {
    dynamodb?.destroy();
    await sandbox?.stop();
    const lines = [...tally].map(
      ([name, t]) => `${name} dropped ${t.dropped}, refused ${t.refused}, accepted ${t.accepted}`,
    );
    console.log(`[bad-input handlers] ${lines.join("; ")}`);
  });

  for (const name of Object.keys(SAMPLES) as HandlerName[]) {
    it(`${name}: random and mutated events never crash it and never write when rejected`, async () => {
      const counts = { dropped: 0, refused: 0, accepted: 0 };
      tally.set(name, counts);
      // Recorded, not printed: hundreds of expected rejections would bury the test output.
      const warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
      const error = vi.spyOn(logger, "error").mockImplementation(() => undefined);
      const addMetric = vi.spyOn(metrics, "addMetric");
      try {
        const inputs = fc.oneof(anyJson, fc.constantFrom(...SAMPLES[name]).chain(mutated)).map(withFreshId);
        await fc.assert(
          fc.asyncProperty(inputs, async (raw) => {
            const before = await snapshot();
            warn.mockClear();
            error.mockClear();
            addMetric.mockClear();
            let result: unknown;
            let thrown: unknown;
            try {
              result = await handlers[name](raw, localLambdaContext(`bad-input-${name}`) as never);
            } catch (caught) {
              thrown = caught ?? new Error("non-error thrown");
            }
            const accepted = ACCEPTS[name](raw);
            if (thrown !== undefined) {
              const { kind, reason } = classifyError(thrown);
              expect(
                INTRINSIC_CRASHES.has((thrown as Error).name),
                `crash: ${(thrown as Error).message}`,
              ).toBe(false);
              expect(kind).not.toBe("drop");
              const logged = [...warn.mock.calls, ...error.mock.calls].map((call) => String(call[0]));
              expect(
                logged.some((line) => /Retriable error|Handler failed/.test(line)),
                reason,
              ).toBe(true);
              expect(await snapshot()).toBe(before);
              counts.refused++;
            } else if ((result as { dropped?: unknown } | null)?.dropped === true) {
              const { reason } = result as { reason: unknown };
              expect(typeof reason === "string" && reason.trim().length > 0).toBe(true);
              expect(accepted, "dropped an event its parser accepts").toBe(false);
              expect(warn).toHaveBeenCalledWith(
                "Event dropped: retrying cannot help",
                expect.objectContaining({ reason }),
              );
              expect(addMetric).toHaveBeenCalledWith("EventsDropped", expect.anything(), 1);
              expect(await snapshot()).toBe(before);
              counts.dropped++;
            } else {
              expect(
                accepted,
                `handled an event its parser rejects: ${JSON.stringify(raw)?.slice(0, 300)}`,
              ).toBe(true);
              counts.accepted++;
            }
          }),
          { numRuns: 40, seed: 5150 },
        );
      } finally {
        warn.mockRestore();
        error.mockRestore();
        addMetric.mockRestore();
      }
      expect(counts.dropped).toBeGreaterThan(20);
    });
  }
});
