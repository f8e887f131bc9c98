import { afterEach, describe, expect, it } from "vitest";
import {
  boundedTail,
  diagnoseFailure,
  MAX_LINE_CHARS,
  MAX_LOG_BYTES,
  MAX_LOG_LINES,
  MAX_TEXT_CHARS,
  redactLogLine,
  redactLogLines,
  redactText,
} from "../src/index.ts";

describe("redactLogLine: secrets lose their values, the rest of the line stays readable", () => {
  it.each([
    // connection strings, headers, cloud and chat credentials
    ["DATABASE_URL=postgres://app:hunter2@db:5432/app", "postgres://app:[REDACTED]@db:5432/app", "hunter2"],
    ["Authorization: Bearer abc.def-123", "Authorization: Bearer [REDACTED]", "abc.def-123"],
    ["Authorization: Token abc123", "Authorization: Token [REDACTED]", "abc123"],
    ['headers: {"Authorization":"Token 9f8e7d6c"}', '"Authorization":"Token [REDACTED]"', "9f8e7d6c"],
    ["curl -H 'Authorization: Basic dXNlcjpwYXNz'", "Authorization: Basic [REDACTED]", "dXNlcjpwYXNz"],
    ["key AKIAABCDEFGHIJKLMNOP used", "key [REDACTED] used", "AKIAABCDEFGHIJKLMNOP"],
    [
      "posting to https://hooks.slack.com/services/T0/B0/XYZsecret",
      "posting to https://hooks.slack.com/[REDACTED]",
      "XYZsecret",
    ],
    ["token: xoxb-1-2-abc", "token: [REDACTED]", "xoxb-1-2-abc"],
    ["session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "session [REDACTED]", "c2lnbmF0dXJl"],
    // key=value and JSON, whatever the quoting
    ["api_key=sk_live_123 next", "api_key=[REDACTED] next", "sk_live_123"],
    ['{"password":"hunter2","user":"ann"}', '{"password":"[REDACTED]","user":"ann"}', "hunter2"],
    ['{"client_secret": "abc", "ok": 1}', '{"client_secret": "[REDACTED]", "ok": 1}', "abc"],
    ['{"apiKey":"AIzaSyA-1234567890"}', '{"apiKey":"[REDACTED]"}', "AIzaSyA-1234567890"],
    ['{"password":"a\\"b c"}', '{"password":"[REDACTED]"}', "b c"],
    ["db_password: 'p@ss word'", "db_password: '[REDACTED]'", "p@ss word"],
    // vendor tokens that appear without a key in front
    ["stripe ready with sk_live_51HxYz0abc", "stripe ready with [REDACTED]", "51HxYz0abc"],
    ["using sk_test_4eC39HqLyjWDarjtT1zdp7dc", "using [REDACTED]", "4eC39HqLyjWDarjtT1zdp7dc"],
    ["restricted rk_live_abc123DEF", "restricted [REDACTED]", "abc123DEF"],
    ["webhook signing whsec_abc123", "webhook signing [REDACTED]", "abc123"],
    ["clone with ghp_16C7e42F292c6912E7710c838347Ae178B4a", "clone with [REDACTED]", "16C7e42F292c"],
    ["oauth gho_abcDEF123 ok", "oauth [REDACTED] ok", "abcDEF123"],
    ["app token ghs_xyz789", "app token [REDACTED]", "xyz789"],
    ["pat github_pat_11ABCDEFG0_abcdefXYZ", "pat [REDACTED]", "11ABCDEFG0_abcdefXYZ"],
    // presigned URL query parameters
    [
      "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc123&partNumber=1",
      "?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&partNumber=1",
      "abc123",
    ],
  ])("%s", (line, expected, secret) => {
    const redacted = redactLogLine(line);
    expect(redacted).toContain(expected);
    expect(redacted).not.toContain(secret);
  });

  it.each([
    "Server listening on port 8080",
    "GET /healthz 200 3ms",
    "invalid token provided by client",
    "Token expired, asking the user to sign in again",
    "digest sha256:0123456789abcdef",
  ])("leaves an ordinary line alone: %s", (line) => {
    expect(redactLogLine(line)).toBe(line);
  });

  it("redacts a private key that an app printed inside one log event (escaped newlines)", () => {
    const line =
      'config {"key":"-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA7\\nq2Zx==\\n-----END RSA PRIVATE KEY-----","port":8080}';
    const redacted = redactLogLine(line);
    expect(redacted).not.toMatch(/MIIEowIBAAKCAQEA7|q2Zx==/);
    expect(redacted).toContain('"port":8080');
  });
});

describe("redactLogLines: a PEM block spans several log events", () => {
  const BODY = ["MIIEowIBAAKCAQEA7mVPQ3x5Yp2/abc+def", "q2ZxLmNvbS9rZXlzL2V4YW1wbGUK", "AbCd=="];

  it("redacts every line between BEGIN and END and keeps the lines around it", () => {
    const lines = [
      "starting",
      "-----BEGIN RSA PRIVATE KEY-----",
      ...BODY,
      "-----END RSA PRIVATE KEY-----",
      "listening on port 8080",
    ];
    const redacted = redactLogLines(lines);
    expect(redacted).toEqual([
      "starting",
      "-----BEGIN RSA PRIVATE KEY-----",
      "[REDACTED]",
      "[REDACTED]",
      "[REDACTED]",
      "-----END RSA PRIVATE KEY-----",
      "listening on port 8080",
    ]);
  });

  it("redacts the body of a block whose BEGIN fell outside the tail", () => {
    const redacted = redactLogLines([...BODY, "-----END PRIVATE KEY-----", "exited with code 1"]);
    expect(redacted).toEqual([
      "[REDACTED]",
      "[REDACTED]",
      "[REDACTED]",
      "-----END PRIVATE KEY-----",
      "exited with code 1",
    ]);
  });

  it("redacts to the end of the tail when the END never came", () => {
    expect(redactLogLines(["-----BEGIN PRIVATE KEY-----", ...BODY])).toEqual([
      "-----BEGIN PRIVATE KEY-----",
      "[REDACTED]",
      "[REDACTED]",
      "[REDACTED]",
    ]);
  });

  it("is bounded: a stray BEGIN does not swallow the ordinary log lines after it", () => {
    const redacted = redactLogLines([
      "-----BEGIN PRIVATE KEY-----",
      "MIIEowIBAAKCAQEA7mVPQ3x5Yp2",
      "Error: connect ECONNREFUSED 10.0.0.5:5432",
      "node exited with code 1",
    ]);
    expect(redacted.slice(2)).toEqual([
      "Error: connect ECONNREFUSED 10.0.0.5:5432",
      "node exited with code 1",
    ]);
    expect(redacted[1]).toBe("[REDACTED]");
  });

  it("goes through boundedTail and diagnoseFailure too", () => {
    const lines = ["-----BEGIN EC PRIVATE KEY-----", ...BODY, "-----END EC PRIVATE KEY-----"];
    expect(boundedTail(lines).join("\n")).not.toMatch(/MIIE|q2Zx|AbCd/);
    expect(diagnoseFailure(lines).evidence.join("\n")).not.toMatch(/MIIE|q2Zx|AbCd/);
  });
});

describe("bounds: every line is cut to MAX_LINE_CHARS before any regex sees it", () => {
  const exec = RegExp.prototype.exec;
  /** Every string a regex was run on (test, replace, match and split all go through exec). */
  let longest = 0;

  afterEach(() => {
    RegExp.prototype.exec = exec;
  });

  function watchRegexInputs(limit: number): void {
    longest = 0;
    RegExp.prototype.exec = function (this: RegExp, input: string) {
      longest = Math.max(longest, String(input).length);
      // Fail fast instead of running a possibly quadratic pattern over a huge input.
      if (String(input).length > limit) throw new Error(`a regex ran on ${String(input).length} characters`);
      return exec.call(this, input);
    };
  }

  // Shapes that make naive patterns backtrack: long runs of scheme characters, separators, quotes.
  const pathological = [
    "a".repeat(1_000_000),
    "a.".repeat(500_000),
    `password="${"\\x".repeat(500_000)}`,
    `?${"?token".repeat(150_000)}`,
    `Bearer ${" ".repeat(1_000_000)}!`,
    `-----BEGIN PRIVATE KEY-----${"A".repeat(1_000_000)}`,
  ];

  it.each(pathological.map((line) => [line.slice(0, 24), line]))("%s… (1 MB)", (_, line) => {
    watchRegexInputs(MAX_LINE_CHARS);
    const redacted = redactLogLine(line);
    const tail = boundedTail([line, "health check failed"]);
    const diagnosis = diagnoseFailure([line, line, "health check failed"]);
    RegExp.prototype.exec = exec;

    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThanOrEqual(MAX_LINE_CHARS);
    expect(redacted.length).toBeLessThan(MAX_LINE_CHARS + 64);
    expect(tail.join("\n").length).toBeLessThanOrEqual(MAX_LOG_BYTES);
    expect(diagnosis.cause).toBe("health-check");
  });

  it("redactText bounds free text the same way (its own, larger limit)", () => {
    watchRegexInputs(MAX_TEXT_CHARS);
    const redacted = redactText(`password=${"x".repeat(1_000_000)}`);
    RegExp.prototype.exec = exec;
    expect(longest).toBeLessThanOrEqual(MAX_TEXT_CHARS);
    expect(redacted).toMatch(/^password=\[REDACTED\]/);
    expect(redacted).toMatch(/truncated/);
  });

  it("keeps the newest lines within the line and byte limits", () => {
    const many = Array.from({ length: MAX_LOG_LINES * 2 }, (_, index) => `line ${index}`);
    const tail = boundedTail(many);
    expect(tail).toHaveLength(MAX_LOG_LINES);
    expect(tail.at(-1)).toBe(`line ${MAX_LOG_LINES * 2 - 1}`);
    const huge = Array.from({ length: 100 }, () => "x".repeat(1500));
    expect(boundedTail(huge).join("\n").length).toBeLessThanOrEqual(MAX_LOG_BYTES);
  });
});
