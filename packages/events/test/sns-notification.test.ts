import { describe, expect, it } from "vitest";
import { EventContractError, parseNotificationMessage, parseSnsNotificationEvent } from "../src/index.ts";

const notification = {
  schemaVersion: 1,
  kind: "block",
  level: "warning",
  service: "payments",
  digest: "sha256:abc",
  releaseId: "payments@sha256:abc",
  reasons: ["1 HIGH finding (allowed: 0)"],
  message: "blocked by policy strict",
  at: "2026-11-02T09:00:00.000Z",
};

const event = (message: string) => ({
  Records: [
    {
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:aws:sns:us-east-1:111122223333:gantry:sub",
      Sns: {
        Type: "Notification",
        MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        TopicArn: "arn:aws:sns:us-east-1:111122223333:gantry",
        Subject: "Gantry block payments",
        Message: message,
        Timestamp: "2026-11-02T09:00:00.000Z",
        MessageAttributes: { kind: { Type: "String", Value: "block" } },
      },
    },
  ],
});

describe("domain notifications off SNS", () => {
  it("parses the Lambda SNS event and keeps the message byte for byte (the de-duplication key)", () => {
    const raw = JSON.stringify(notification);
    const [record] = parseSnsNotificationEvent(event(raw));
    expect(record).toMatchObject({
      messageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
      rawMessage: raw,
      attributes: { kind: { Type: "String", Value: "block" } },
      notification,
    });
  });

  it("keeps fields a newer producer adds, and renders unknown kinds rather than dropping them", () => {
    const parsed = parseNotificationMessage(
      JSON.stringify({ ...notification, kind: "teleport", outcome: "x", links: ["u"] }),
    );
    expect(parsed).toMatchObject({ kind: "teleport", outcome: "x", links: ["u"] });
  });

  it.each([
    ["not JSON", "{", /Message: is not JSON/],
    [
      "another schema version",
      JSON.stringify({ ...notification, schemaVersion: 2 }),
      /schema version 2 is not supported/,
    ],
  ])("refuses %s as a contract error (dropped, never retried)", (_, message, reason) => {
    expect(() => parseSnsNotificationEvent(event(message))).toThrow(EventContractError);
    expect(() => parseSnsNotificationEvent(event(message))).toThrow(reason);
  });

  it("refuses a message missing required fields, and an event with no records", () => {
    expect(() => parseNotificationMessage(JSON.stringify({ ...notification, level: "loud" }))).toThrow(
      /level/,
    );
    expect(() => parseSnsNotificationEvent({ Records: [] })).toThrow();
  });
});
