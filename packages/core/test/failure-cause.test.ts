import { describe, expect, it } from "vitest";
import {
  backoffCeilingSeconds,
  boundedTail,
  diagnoseFailure,
  fullJitterDelaySeconds,
  MAX_LOG_BYTES,
  MAX_LOG_LINES,
  redactLogLine,
  seededRandom,
} from "../src/index.ts";

describe("diagnoseFailure", () => {
  it.each([
    [["Pulling image", "CannotPullContainerError: pull access denied for web"], "image-pull", false],
    [["Error: connect ECONNREFUSED 10.0.0.5:5432", "health check failed"], "dependency-unavailable", true],
    [["Server listening on port 3000", "health check failed on port 8080"], "port-mismatch", false],
    [["starting", "node exited with code 1", "Health check failed"], "crash-loop", false],
    [["instance unhealthy: health check failure on /healthz"], "health-check", false],
    [["all good", "nothing to see"], "unknown", true],
    [[], "unknown", true],
  ] as const)("%j → %s", (lines, cause, transient) => {
    const diagnosis = diagnoseFailure(lines);
    expect(diagnosis.cause).toBe(cause);
    expect(diagnosis.transient).toBe(transient);
  });

  it("keeps at most five evidence lines, newest last", () => {
    const lines = Array.from({ length: 9 }, (_, index) => `health check failed #${index}`);
    expect(diagnoseFailure(lines).evidence).toEqual(lines.slice(4));
  });
});

describe("redaction and bounds", () => {
  it.each([
    ["DATABASE_URL=postgres://app:hunter2@db:5432/app", "postgres://app:[REDACTED]@db:5432/app"],
    ["Authorization: Bearer abc.def-123", "Bearer [REDACTED]"],
    ["api_key=sk_live_123 next", "api_key=[REDACTED] next"],
    ["key AKIAABCDEFGHIJKLMNOP used", "key [REDACTED] used"],
    ["posting to https://hooks.slack.com/services/T0/B0/XYZ", "posting to [REDACTED]"],
    ["token: xoxb-1-2-abc", "token=[REDACTED]"],
  ])("%s", (line, expected) => {
    expect(redactLogLine(line)).toContain(expected);
    expect(redactLogLine(line)).not.toMatch(
      /hunter2|abc\.def-123|sk_live_123|AKIAABCDEFGHIJKLMNOP|XYZ|xoxb-1-2-abc/,
    );
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

describe("full-jitter backoff", () => {
  const policy = { baseDelaySeconds: 30, maxDelaySeconds: 300 };

  it("ceilings double per attempt up to the maximum", () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffCeilingSeconds(policy, attempt))).toEqual([
      30, 60, 120, 240, 300,
    ]);
  });

  it("delays stay within [1, ceiling] and are reproducible for a seed", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    for (let attempt = 1; attempt <= 6; attempt++) {
      const delay = fullJitterDelaySeconds(policy, attempt, a);
      expect(delay).toBeGreaterThanOrEqual(1);
      expect(delay).toBeLessThanOrEqual(backoffCeilingSeconds(policy, attempt));
      expect(fullJitterDelaySeconds(policy, attempt, b)).toBe(delay);
    }
  });
});
