import { describe, expect, it } from "vitest";
import { GantryConfigError, parseGantryConfig, policyVersion } from "../src/index.ts";

describe("parseGantryConfig", () => {
  it("an empty config yields the documented default policy", () => {
    const config = parseGantryConfig({});
    expect(config.defaultPolicy).toBe("default");
    expect(config.policies.default).toMatchObject({
      mode: "enforce",
      follow: { kind: "current-tag" },
      maxFindings: { CRITICAL: 0 },
      scanTimeoutMinutes: 30,
    });
  });

  it.each([
    [{ policies: { strict: { mode: "yolo" } } }, "policies.strict.mode"],
    [
      { policies: { strict: { follow: { kind: "semver", range: "not a range!" } } } },
      "not a valid semver range",
    ],
    [
      { policies: { strict: { follow: { kind: "pattern", pattern: "(" } } } },
      "not a valid regular expression",
    ],
    [{ policies: { strict: { maxFindings: { CRITICAL: -1 } } } }, "policies.strict.maxFindings.CRITICAL"],
    [
      {
        policies: {
          strict: { exceptions: [{ id: "CVE-1", owner: "", reason: "x", expiresAt: "2026-01-01" }] },
        },
      },
      "owner",
    ],
    [{ policies: { "bad#name": {} } }, "valid AWS tag values"],
    [{ defaultPolicy: "missing" }, "defaultPolicy names a policy that is not defined"],
    [{ unknownKey: true }, "unknownKey"],
  ])("rejects %j naming the problem", (input, expected) => {
    expect(() => parseGantryConfig(input)).toThrowError(GantryConfigError);
    expect(() => parseGantryConfig(input)).toThrowError(expected);
  });

  it("policy versions change when the policy changes and only then", () => {
    const a = parseGantryConfig({ policies: { p: { maxFindings: { CRITICAL: 0 } } } }).policies.p!;
    const b = parseGantryConfig({ policies: { p: { maxFindings: { CRITICAL: 0 } } } }).policies.p!;
    const c = parseGantryConfig({ policies: { p: { maxFindings: { CRITICAL: 1 } } } }).policies.p!;
    expect(policyVersion(a)).toBe(policyVersion(b));
    expect(policyVersion(a)).not.toBe(policyVersion(c));
  });
});
