/**
 * Bad input, parsers: every event parser in packages/events either returns a value or rejects with
 * an error the runtime's one classifier drops (EventContractError, or a schema error) with a reason
 * that names what is wrong. A TypeError, a RangeError or a stack overflow on a malformed event would
 * reach the dead-letter queue as a handler failure and page someone for a producer's typo.
 */
import {
  parseAppRunnerOperationStatusEvent,
  parseAppRunnerPauseCall,
  parseAppRunnerServiceStatusEvent,
  parseAwsEvent,
  parseEcrImagePushEvent,
  parseEcrImageScanEvent,
  parseInspectorScanEvent,
  parseNotificationMessage,
  parseRetryJob,
  parseSnsNotificationEvent,
} from "@gantry/events";
import { classifyError } from "@gantry/runtime";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { anyJson, mutated, notificationText, samples, snsEvent } from "./bad-input-support.ts";

interface Parser {
  name: string;
  parse: (raw: unknown) => unknown;
  valid: unknown[];
}

const PARSERS: Parser[] = [
  { name: "parseEcrImagePushEvent", parse: parseEcrImagePushEvent, valid: [samples.push] },
  { name: "parseEcrImageScanEvent", parse: parseEcrImageScanEvent, valid: [samples.basicScan] },
  { name: "parseInspectorScanEvent", parse: parseInspectorScanEvent, valid: [samples.inspectorScan] },
  {
    name: "parseAppRunnerOperationStatusEvent",
    parse: parseAppRunnerOperationStatusEvent,
    valid: [samples.operation, samples.operationDocV1],
  },
  {
    name: "parseAppRunnerServiceStatusEvent",
    parse: parseAppRunnerServiceStatusEvent,
    valid: [samples.serviceStatus, samples.serviceStatusDocV1],
  },
  { name: "parseAppRunnerPauseCall", parse: parseAppRunnerPauseCall, valid: [samples.pauseCall] },
  {
    name: "parseAwsEvent",
    parse: parseAwsEvent,
    valid: [
      samples.push,
      samples.basicScan,
      samples.inspectorScan,
      samples.operation,
      samples.serviceStatus,
      samples.pauseCall,
    ],
  },
  { name: "parseRetryJob", parse: parseRetryJob, valid: [samples.retryJob] },
  { name: "parseSnsNotificationEvent", parse: parseSnsNotificationEvent, valid: [snsEvent] },
];

const counts = new Map<string, { accepted: number; rejected: number }>();

/** Returns "accepted" or "rejected"; throws (failing the property) on anything but a clean drop. */
function judge(parser: Parser | { name: string; parse: (raw: unknown) => unknown }, raw: unknown) {
  const tally = counts.get(parser.name) ?? { accepted: 0, rejected: 0 };
  counts.set(parser.name, tally);
  try {
    parser.parse(raw);
    tally.accepted++;
    return "accepted";
  } catch (error) {
    const verdict = classifyError(error);
    if (verdict.kind !== "drop" || !verdict.reason.trim()) {
      throw new Error(
        `${parser.name} crashed instead of rejecting: ${(error as Error)?.name}: ${(error as Error)?.message} ` +
          `(classified ${verdict.kind}: ${verdict.reason}); input ${JSON.stringify(raw)?.slice(0, 500)}`,
      );
    }
    tally.rejected++;
    return "rejected";
  }
}

describe("bad input: event parsers reject malformed events cleanly (fast-check)", () => {
  afterAll(() => {
    const lines = [...counts].map(([name, { accepted, rejected }]) => `${name} ${accepted}/${rejected}`);
    console.log(`[bad-input parsers] accepted/rejected: ${lines.join(", ")}`);
  });

  for (const parser of PARSERS) {
    it(`${parser.name}: the valid samples parse (the properties below start from them)`, () => {
      for (const sample of parser.valid) expect(judge(parser, sample)).toBe("accepted");
    });

    it(`${parser.name}: any JSON value is parsed or dropped, never a crash`, () => {
      fc.assert(
        fc.property(anyJson, (raw) => {
          judge(parser, raw);
        }),
        { numRuns: 300, seed: 4242 },
      );
    });

    it(`${parser.name}: mutated valid events are parsed or dropped, never a crash`, () => {
      let rejected = 0;
      fc.assert(
        fc.property(fc.constantFrom(...parser.valid).chain(mutated), (raw) => {
          if (judge(parser, raw) === "rejected") rejected++;
        }),
        { numRuns: 400, seed: 4343 },
      );
      // The mutations must actually break events, or this property proves nothing.
      expect(rejected).toBeGreaterThan(100);
    });
  }

  it("parseNotificationMessage: any text, and mutated notification JSON, is parsed or dropped", () => {
    const parser = {
      name: "parseNotificationMessage",
      parse: (raw: unknown) => parseNotificationMessage(raw as string),
    };
    expect(judge(parser, notificationText)).toBe("accepted");
    const texts = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 200 }),
      anyJson.map((value) => JSON.stringify(value) ?? ""),
      mutated(JSON.parse(notificationText)).map((value) => JSON.stringify(value) ?? ""),
    );
    fc.assert(
      fc.property(texts, (text) => {
        judge(parser, text);
      }),
      { numRuns: 500, seed: 4444 },
    );
  });

  it("a rejection names the field and what is wrong", () => {
    const broken = structuredClone(samples.push) as { detail: Record<string, unknown> };
    broken.detail["image-digest"] = 42;
    const error = (() => {
      try {
        parseEcrImagePushEvent(broken);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("a numeric digest was accepted");
    })();
    expect(classifyError(error)).toMatchObject({ kind: "drop" });
    expect(error.message).toContain("detail.image-digest");
  });
});
