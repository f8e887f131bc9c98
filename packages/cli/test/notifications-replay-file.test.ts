import { describe, expect, it } from "vitest";
import { extractReplayRecords } from "../src/commands/notifications.ts";

const message = JSON.stringify({
  schemaVersion: 1,
  kind: "block",
  level: "warning",
  reasons: [],
  message: "m",
  at: "t",
});
const snsEvent = { Records: [{ EventSource: "aws:sns", Sns: { MessageId: "1", Message: message } }] };
const invocationRecord = {
  version: "1.0",
  requestContext: { condition: "RetriesExhausted" },
  requestPayload: snsEvent,
};

describe("what `gantry notifications replay` reads", () => {
  it.each([
    ["an aws sqs receive-message export", { Messages: [{ Body: JSON.stringify(invocationRecord) }] }],
    ["a Lambda invocation record (what the queue holds)", invocationRecord],
    ["a Lambda SNS event", snsEvent],
    ["an array of them", [snsEvent]],
    ["a bare notification, as published", JSON.parse(message)],
  ])("%s", (_, value) => {
    // The de-duplication key is the SNS Message byte for byte: recovered exactly, whatever the wrapping.
    expect(extractReplayRecords(JSON.stringify(value)).map((record) => record.rawMessage)).toEqual([message]);
  });

  it("reads JSON Lines, and names the line it cannot read", () => {
    const lines = `${JSON.stringify(snsEvent)}\n\n${message}\n`;
    expect(extractReplayRecords(lines).map((record) => record.origin)).toEqual([
      "line 1.Records[0]",
      "line 3",
    ]);
    expect(() => extractReplayRecords(`${message}\n{"hello":1}`)).toThrow(
      "line 2: not a dead letter or a notification",
    );
    expect(() => extractReplayRecords(JSON.stringify({ Records: [{ Sns: {} }] }))).toThrow(
      "file.Records[0]: not an SNS record",
    );
  });
});
