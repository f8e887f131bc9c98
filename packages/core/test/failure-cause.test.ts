import { describe, expect, it } from "vitest";
import {
  backoffCeilingSeconds,
  diagnoseFailure,
  fullJitterDelaySeconds,
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

describe("port mismatch: only when the app listens on another port than the service's", () => {
  const HEALTH_8080 =
    "[AppRunner] Health check failed on protocol `TCP` [Port: '8080']. Check your configured port number.";

  it.each([
    // what a healthy app prints on the configured port is no evidence of anything
    [["Server listening on port 8080", HEALTH_8080], undefined, "health-check"],
    [["Listening on http://0.0.0.0:8080", "health check failed"], undefined, "health-check"],
    [["Server listening on port 3000", "health check failed"], 3000, "health-check"],
    // a different port than the configured one (given, read from App Runner's own line, or 8080)
    [["Server listening on port 3000", HEALTH_8080], undefined, "port-mismatch"],
    [["Server listening on port 8080", "health check failed"], 3000, "port-mismatch"],
    [
      ["Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)", "health check failed"],
      undefined,
      "port-mismatch",
    ],
    [["Listening at: http://0.0.0.0:5000 (7)", "health check failed"], 8080, "port-mismatch"],
    [
      [
        "listening on port 3000",
        "[AppRunner] Health check failed on protocol `HTTP`[Path: '/'], [Port: '3000'].",
      ],
      undefined,
      "health-check",
    ],
    // an explicit message says so
    [["port mismatch: container exposes 80, service expects 8080"], undefined, "port-mismatch"],
    [["no process listening on port 8080"], undefined, "port-mismatch"],
    // a port already in use is the app failing to start, not a configuration mismatch
    [
      ["Error: listen EADDRINUSE: address already in use :::8080", "node exited with code 1"],
      undefined,
      "crash-loop",
    ],
  ] as const)("%j (configured port %s) → %s", (lines, expectedPort, cause) => {
    expect(diagnoseFailure(lines, { expectedPort }).cause).toBe(cause);
  });

  it("names both ports in the summary", () => {
    const diagnosis = diagnoseFailure(["Server listening on port 3000", "health check failed"]);
    expect(diagnosis.summary).toContain("3000");
    expect(diagnosis.summary).toContain("8080");
    expect(diagnosis.evidence).toEqual(["Server listening on port 3000"]);
  });
});

describe("verdict by weight: the app's failure signals are counted, a tie goes to the newest", () => {
  const REFUSED = "Error: connect ECONNREFUSED 10.0.0.5:5432";
  const EXIT = "node exited with code 1";

  it.each([
    // one incidental dependency error among crash lines stays a crash loop, wherever it is
    [["Uncaught exception: TypeError", REFUSED, EXIT, EXIT], "crash-loop"],
    [[EXIT, EXIT, EXIT, REFUSED, "health check failed"], "crash-loop"],
    // the dependency errors dominate
    [[REFUSED, REFUSED, REFUSED, EXIT, "health check failed"], "dependency-unavailable"],
    // a tie: the newest signal is the one the app died on
    [[REFUSED, EXIT], "crash-loop"],
    [[EXIT, REFUSED], "dependency-unavailable"],
    [
      [
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in <module>',
        "psycopg2.OperationalError: could not connect to server: Connection refused",
      ],
      "dependency-unavailable",
    ],
    // App Runner could not pull the image: nothing else in the logs came from the new version
    [[EXIT, EXIT, "CannotPullContainerError: manifest unknown"], "image-pull"],
    // a wrong port explains a failed health check whatever else the app printed
    [["Server listening on port 3000", REFUSED, REFUSED, "health check failed"], "port-mismatch"],
  ] as const)("%j → %s", (lines, cause) => {
    expect(diagnoseFailure(lines).cause).toBe(cause);
  });

  it("keeps the winning cause's lines as evidence, not the incidental ones", () => {
    const diagnosis = diagnoseFailure(["Uncaught exception: TypeError", REFUSED, EXIT, EXIT]);
    expect(diagnosis.evidence).toEqual(["Uncaught exception: TypeError", EXIT, EXIT]);
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
