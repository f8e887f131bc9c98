import { redactText as coreRedactText } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { REDACTED, redact, redactingJsonReplacer, redactText } from "../src/observability.ts";

const WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/abcdefSECRET";

describe("redact", () => {
  it("replaces values under secret-looking keys at any depth, whatever their type", () => {
    const input = {
      service: "checkout",
      slackWebhookUrl: WEBHOOK,
      headers: { Authorization: "Bearer abc", "x-origin-verify": "ok", "X-Slack-Signature": "v0=deadbeef" },
      nested: [{ botToken: "xoxb-1-2-3" }, { signingSecret: { value: "s" } }, { dbPassword: 42 }],
    };

    expect(redact(input)).toEqual({
      service: "checkout",
      slackWebhookUrl: REDACTED,
      headers: { Authorization: REDACTED, "x-origin-verify": "ok", "X-Slack-Signature": REDACTED },
      nested: [{ botToken: REDACTED }, { signingSecret: REDACTED }, { dbPassword: REDACTED }],
    });
  });

  it("masks secrets inside free text under innocent keys", () => {
    expect(redact({ message: `POST ${WEBHOOK} failed`, note: "uses xoxb-123-456-abc" })).toEqual({
      message: `POST https://hooks.slack.com/${REDACTED} failed`,
      note: `uses ${REDACTED}`,
    });
  });

  it("does not modify its input", () => {
    const input = { token: "t", inner: { password: "p" } };

    redact(input);

    expect(input).toEqual({ token: "t", inner: { password: "p" } });
  });

  it("cuts cycles but keeps an object that is merely referenced twice", () => {
    const shared = { region: "eu-west-1" };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic.self = cyclic;

    expect(redact(cyclic)).toEqual({ a: shared, b: shared, self: "[Circular]" });
  });

  it("turns errors into name and redacted message only", () => {
    const error = Object.assign(new Error(`cannot reach ${WEBHOOK}`), { $response: { headers: { a: 1 } } });

    expect(redact({ error })).toEqual({
      error: { name: "Error", message: `cannot reach https://hooks.slack.com/${REDACTED}` },
    });
  });

  it("leaves primitives, dates and ordinary values alone", () => {
    const when = new Date("2026-01-01T00:00:00Z");

    expect(redact({ n: 1, b: true, nil: null, when, digest: "sha256:abc" })).toEqual({
      n: 1,
      b: true,
      nil: null,
      when,
      digest: "sha256:abc",
    });
  });
});

describe("redactText", () => {
  it.each([
    [`webhook ${WEBHOOK}.`, `webhook https://hooks.slack.com/${REDACTED}.`],
    ["Authorization: Bearer eyJhbGciOi.payload.sig", `Authorization: Bearer ${REDACTED}`],
    ["token xoxp-1234-5678-abcd in use", `token ${REDACTED} in use`],
    [
      "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc123&partNumber=1",
      `https://bucket.s3.amazonaws.com/k?X-Amz-Credential=${REDACTED}&X-Amz-Signature=${REDACTED}&partNumber=1`,
    ],
    ["nothing to hide here", "nothing to hide here"],
    // secrets the core's log-line redaction knows, now redacted in Gantry's own logs too
    ['upstream said {"password":"hunter2"}', `upstream said {"password":"${REDACTED}"}`],
    ["GitHub refused ghp_16C7e42F292c6912E7710c838347Ae178B4a", `GitHub refused ${REDACTED}`],
    ["Authorization: Token abc123", `Authorization: Token ${REDACTED}`],
  ])("%s", (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it("is the core's one redaction, not a second copy", () => {
    expect(redactText).toBe(coreRedactText);
  });
});

describe("redactingJsonReplacer", () => {
  it("redacts every matching key and string when used by JSON.stringify", () => {
    const json = JSON.stringify(
      { level: "INFO", message: `posting to ${WEBHOOK}`, extra: { webhook: WEBHOOK, count: 2 } },
      redactingJsonReplacer,
    );

    expect(JSON.parse(json)).toEqual({
      level: "INFO",
      message: `posting to https://hooks.slack.com/${REDACTED}`,
      extra: { webhook: REDACTED, count: 2 },
    });
  });
});
