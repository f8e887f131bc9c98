import { describe, expect, it } from "vitest";
import {
  compileEventPattern,
  compileSnsFilterPolicy,
  InvalidSnsFilterPolicyError,
  type SnsAttributeValue,
  snsFilterPolicyCombinations,
} from "../src/index.ts";

const s = (value: string) => ({ dataType: "String", value });
const n = (value: string) => ({ dataType: "Number", value });
const array = (...values: unknown[]) => ({ dataType: "String.Array", value: JSON.stringify(values) });
const matches = (policy: unknown, attributes: Record<string, SnsAttributeValue>) =>
  compileSnsFilterPolicy(policy).matches(attributes);

describe("SNS filter policies: the syntax EventBridge shares", () => {
  // The examples of the SNS developer guide ("Attribute string value matching", "Numeric value
  // matching", "Key matching", "AND/OR logic").
  it.each([
    [{ customer_interests: ["rugby", "tennis"] }, { customer_interests: s("rugby") }, true],
    [{ customer_interests: ["rugby", "tennis"] }, { customer_interests: s("baseball") }, false],
    [{ customer_interests: [{ prefix: "bas" }] }, { customer_interests: s("basketball") }, true],
    [{ customer_interests: [{ prefix: "bas" }] }, { customer_interests: s("rugby") }, false],
    [{ customer_interests: [{ suffix: "ball" }] }, { customer_interests: s("baseball") }, true],
    [{ customer_interests: [{ "equals-ignore-case": "RUGBY" }] }, { customer_interests: s("rugby") }, true],
    [
      { customer_interests: [{ "anything-but": ["rugby", "tennis"] }] },
      { customer_interests: s("baseball") },
      true,
    ],
    [
      { customer_interests: [{ "anything-but": ["rugby", "tennis"] }] },
      { customer_interests: s("rugby") },
      false,
    ],
    [{ event: [{ "anything-but": { prefix: "order-" } }] }, { event: s("data-entry") }, true],
    [{ event: [{ "anything-but": { prefix: "order-" } }] }, { event: s("order-cancelled") }, false],
    [{ source_ip: [{ cidr: "10.0.0.0/24" }] }, { source_ip: s("10.0.0.255") }, true],
    [{ source_ip: [{ cidr: "10.0.0.0/24" }] }, { source_ip: s("10.1.1.0") }, false],
    [{ price_usd: [{ numeric: ["=", 301.5] }] }, { price_usd: n("3.015e2") }, true],
    [{ price_usd: [{ numeric: [">", 0, "<=", 150] }] }, { price_usd: n("150") }, true],
    [{ price_usd: [{ numeric: [">", 0, "<=", 150] }] }, { price_usd: n("150.5") }, false],
    [{ store: [{ exists: true }] }, { store: s("fans") }, true],
    [{ store: [{ exists: true }] }, { other: s("x") }, false],
    [{ store: [{ exists: false }] }, { other: s("x") }, true],
    // AND across names, OR across a name's values, and $or across names.
    [
      { customer_interests: ["rugby"], price_usd: [{ numeric: [">", 100] }] },
      { customer_interests: s("rugby"), price_usd: n("50") },
      false,
    ],
    [
      { $or: [{ kind: ["block"] }, { level: ["failure"] }] },
      { kind: s("deploy"), level: s("failure") },
      true,
    ],
    [{ $or: [{ kind: ["block"] }, { level: ["failure"] }] }, { kind: s("deploy"), level: s("info") }, false],
    // A name in the policy that the message lacks never matches (other than exists: false).
    [{ service: ["payments"] }, { kind: s("block") }, false],
  ] as const)("%j on %j → %s", (policy, attributes, expected) => {
    expect(matches(policy, attributes as Record<string, SnsAttributeValue>)).toBe(expected);
  });
});

describe("SNS filter policies: where SNS differs from EventBridge", () => {
  it("is flat: a nested policy is refused on message attributes (EventBridge takes it)", () => {
    const nested = { detail: { level: ["failure"] } };
    expect(() => compileEventPattern(nested)).not.toThrow();
    expect(() => compileSnsFilterPolicy(nested)).toThrow(
      "Filter policy scope MessageAttributes does not support nested filter policy",
    );
  });

  it("has no wildcard, no Ruler-only operators, and anything-but takes only values or a prefix", () => {
    for (const [value, reason] of [
      [{ wildcard: "pay*" }, "Unrecognized match type wildcard"],
      [{ exactly: "x" }, "Unrecognized match type exactly"],
      [{ "anything-but": { suffix: "-test" } }, "Unsupported anything-but pattern: suffix"],
      [
        { "anything-but": { "equals-ignore-case": "x" } },
        "Unsupported anything-but pattern: equals-ignore-case",
      ],
    ] as const) {
      expect(() => compileEventPattern({ service: [value] })).not.toThrow();
      expect(() => compileSnsFilterPolicy({ service: [value] })).toThrow(reason);
    }
  });

  it("allows at most 5 attribute names and 150 value combinations", () => {
    const names = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, ["v"]]));
    expect(() => compileSnsFilterPolicy(names(5))).not.toThrow();
    expect(() => compileSnsFilterPolicy(names(6))).toThrow("Filter policy can not have more than 5 keys");
    expect(() => compileEventPattern(names(6))).not.toThrow();
    const values = (count: number) => Array.from({ length: count }, (_, i) => `v${i}`);
    // 10 × 15 = 150 is the limit; 151 is too complex. $or branches add up.
    expect(() => compileSnsFilterPolicy({ a: values(10), b: values(15) })).not.toThrow();
    expect(() => compileSnsFilterPolicy({ a: values(10), b: values(16) })).toThrow(
      "Filter policy is too complex",
    );
    expect(() =>
      compileSnsFilterPolicy({ $or: [{ a: values(10), b: values(10) }, { c: values(51) }] }),
    ).toThrow("Filter policy is too complex");
  });

  it("matches each element of a String.Array attribute", () => {
    const policy = { customer_interests: ["rugby", "tennis"] };
    expect(matches(policy, { customer_interests: array("rugby", "tennis") })).toBe(true);
    expect(matches(policy, { customer_interests: array("baseball") })).toBe(false);
    // anything-but holds when some element is none of the values (the guide's example).
    expect(matches({ i: [{ "anything-but": ["rugby", "tennis"] }] }, { i: array("rugby", "baseball") })).toBe(
      true,
    );
  });

  it("compares a Number attribute as a number and a String one as a string", () => {
    expect(matches({ size: [{ numeric: [">=", 100] }] }, { size: n("100") })).toBe(true);
    expect(matches({ size: [{ numeric: [">=", 100] }] }, { size: s("100") })).toBe(false);
    expect(matches({ size: ["100"] }, { size: n("100") })).toBe(false);
    expect(matches({ size: [100] }, { size: n("1e2") })).toBe(true);
  });

  it("ignores Binary attributes entirely", () => {
    const binary = { payload: { dataType: "Binary", value: "AAEC" } };
    expect(matches({ payload: [{ exists: false }] }, binary)).toBe(true);
    expect(matches({ payload: [{ exists: true }] }, binary)).toBe(false);
  });

  it("reads the three shapes attributes come in: ours, the Lambda event's, the SDK's", () => {
    const policy = { level: ["failure"] };
    expect(matches(policy, { level: { Type: "String", Value: "failure" } })).toBe(true);
    expect(matches(policy, { level: { DataType: "String", StringValue: "failure" } })).toBe(true);
    expect(matches(policy, { level: { DataType: "String", StringValue: "info" } })).toBe(false);
  });

  it("refuses what is not a policy, with SNS's wording", () => {
    expect(() => compileSnsFilterPolicy("{")).toThrow(InvalidSnsFilterPolicyError);
    expect(() => compileSnsFilterPolicy([])).toThrow("Filter policy must be a JSON object");
    expect(() => compileSnsFilterPolicy({ level: [] })).toThrow("Empty arrays are not allowed");
    expect(() => compileSnsFilterPolicy({ level: "failure" })).toThrow(
      '"level" must be an object or an array',
    );
  });
});

describe("SNS filter policy complexity, counted as the SNS developer guide does", () => {
  // https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html and
  // https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html ("Policy constraints that include OR").
  it("multiplies each attribute's value count, and adds up the $or alternatives (the guide's example: 7)", () => {
    const guideExample = {
      source: ["aws.cloudwatch"],
      $or: [
        { metricName: ["CPUUtilization", "ReadLatency"] },
        { metricType: ["MetricType"], $or: [{ metricId: [1234, 4321] }, { spaceId: [1000, 2000, 3000] }] },
      ],
    };
    // (source × metricName) + (source × metricType × metricId) + (source × metricType × spaceId)
    expect(snsFilterPolicyCombinations(guideExample)).toBe(1 * 2 + 1 * 1 * 2 + 1 * 1 * 3);
    expect(snsFilterPolicyCombinations({ level: ["warning", "failure"], service: ["a", "b", "c"] })).toBe(6);
  });

  it("says how many combinations there are and what the limit is", () => {
    const values = (count: number) => Array.from({ length: count }, (_, i) => `v${i}`);
    expect(() => compileSnsFilterPolicy({ level: values(3), service: values(51) })).toThrow(
      "Invalid parameter: FilterPolicy: Filter policy is too complex: 153 combinations of values, at most 150",
    );
  });

  it("treats $or as a plain attribute name when a branch uses a reserved keyword (the guide's rule)", () => {
    // Not an OR: `numeric` and `prefix` are reserved, so "$or" is an attribute whose values are these objects.
    const notAnOr = { $or: [{ numeric: ["=", 123] }, { prefix: "abc" }] };
    expect(snsFilterPolicyCombinations(notAnOr)).toBe(2);
    expect(matches(notAnOr, { $or: s("abcdef") })).toBe(true);
    expect(matches(notAnOr, { $or: s("xyz") })).toBe(false);
  });
});
