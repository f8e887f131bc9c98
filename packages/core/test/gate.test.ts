import { describe, expect, it } from "vitest";
import {
  evaluateGate,
  needsFindingIds,
  parseGantryConfig,
  type ScanEvidence,
  type SeverityCounts,
} from "../src/index.ts";

const now = new Date("2026-06-01T12:00:00Z");
const zero: SeverityCounts = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 };
const scan = (counts: Partial<SeverityCounts>, extra: Partial<ScanEvidence> = {}): ScanEvidence => ({
  scanner: "basic",
  scanStatus: "COMPLETE",
  succeeded: true,
  severityCounts: { ...zero, ...counts },
  ...extra,
});
const policy = (input: Record<string, unknown> = {}) =>
  parseGantryConfig({ policies: { p: input }, defaultPolicy: "p" }).policies.p!;

describe("evaluateGate", () => {
  it.each([
    {
      name: "clean scan passes the default policy",
      policy: {},
      scan: scan({}),
      verdict: "allow",
      violations: [],
    },
    {
      name: "one CRITICAL blocks the default policy",
      policy: {},
      scan: scan({ CRITICAL: 1 }),
      verdict: "block",
      violations: ["1 CRITICAL finding (allowed: 0)"],
    },
    {
      name: "HIGH findings do not matter to the default policy",
      policy: {},
      scan: scan({ HIGH: 40 }),
      verdict: "allow",
      violations: [],
    },
    {
      name: "every limit over is reported",
      policy: { maxFindings: { CRITICAL: 0, HIGH: 2 } },
      scan: scan({ CRITICAL: 3, HIGH: 3, MEDIUM: 100 }),
      verdict: "block",
      violations: ["3 CRITICAL findings (allowed: 0)", "3 HIGH findings (allowed: 2)"],
    },
    {
      name: "a failed scan fails closed",
      policy: {},
      scan: scan({}, { succeeded: false, scanStatus: "UNSUPPORTED_IMAGE" }),
      verdict: "block",
      violations: ["scan UNSUPPORTED_IMAGE: no scan verdict, failing closed"],
    },
    {
      name: "audit mode allows but reports",
      policy: { mode: "audit" },
      scan: scan({ CRITICAL: 2 }),
      verdict: "allow",
      violations: ["2 CRITICAL findings (allowed: 0)"],
    },
  ])("$name", ({ policy: input, scan: evidence, verdict, violations }) => {
    const decision = evaluateGate(policy(input), evidence, now);
    expect(decision.verdict).toBe(verdict);
    expect(decision.violations).toEqual(violations);
  });

  const excepted = {
    exceptions: [
      { id: "CVE-2026-0001", owner: "team-a", reason: "not reachable", expiresAt: "2026-07-01T00:00:00Z" },
    ],
  };

  it("an active exception covering the only CRITICAL finding allows the image", () => {
    const decision = evaluateGate(
      policy(excepted),
      scan({ CRITICAL: 1 }, { findings: [{ id: "CVE-2026-0001", severity: "CRITICAL" }] }),
      now,
    );
    expect(decision.verdict).toBe("allow");
    expect(decision.notes).toEqual([
      "CVE-2026-0001 (CRITICAL) excepted until 2026-07-01T00:00:00Z: not reachable",
    ]);
  });

  it("an exception does not cover a different finding", () => {
    const decision = evaluateGate(
      policy(excepted),
      scan(
        { CRITICAL: 2 },
        {
          findings: [
            { id: "CVE-2026-0001", severity: "CRITICAL" },
            { id: "CVE-2026-9999", severity: "CRITICAL" },
          ],
        },
      ),
      now,
    );
    expect(decision.verdict).toBe("block");
    expect(decision.violations).toEqual(["1 CRITICAL finding (allowed: 0)"]);
  });

  it("an expired exception no longer applies and is reported", () => {
    const decision = evaluateGate(
      policy(excepted),
      scan({ CRITICAL: 1 }, { findings: [{ id: "CVE-2026-0001", severity: "CRITICAL" }] }),
      new Date("2026-08-01T00:00:00Z"),
    );
    expect(decision.verdict).toBe("block");
    expect(decision.notes).toEqual(["exception CVE-2026-0001 (owner team-a) expired 2026-07-01T00:00:00Z"]);
  });

  it("finding ids are fetched only when an active exception could change the verdict", () => {
    expect(needsFindingIds(policy(excepted), scan({ CRITICAL: 1 }), now)).toBe(true);
    expect(needsFindingIds(policy(excepted), scan({ HIGH: 1 }), now)).toBe(false);
    expect(needsFindingIds(policy({}), scan({ CRITICAL: 1 }), now)).toBe(false);
    expect(needsFindingIds(policy(excepted), scan({ CRITICAL: 1 }), new Date("2027-01-01T00:00:00Z"))).toBe(
      false,
    );
  });
});
