import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileEventPattern, InvalidEventPatternError, matchesEventPattern } from "../src/event-pattern.ts";

interface Case {
  name: string;
  pattern: unknown;
  event: unknown;
  matches: boolean;
}

/** One field: `{ f: [ ...values ] }` against `{ f: value }` (or no `f` at all when value is undefined). */
const field = (name: string, values: unknown[], value: unknown, matches: boolean): Case => ({
  name,
  pattern: { f: values },
  event: value === undefined ? { other: 1 } : { f: value },
  matches,
});

const reasonOf = (pattern: unknown): string => {
  try {
    compileEventPattern(pattern);
  } catch (error) {
    if (error instanceof InvalidEventPatternError) return error.reason;
    throw error;
  }
  throw new Error(`pattern was accepted: ${JSON.stringify(pattern)}`);
};

const runCases = (cases: Case[]) =>
  it.each(cases)("$name", ({ pattern, event, matches }) => {
    expect(matchesEventPattern(pattern, event)).toBe(matches);
  });

describe("exact values", () => {
  runCases([
    field("string equal", ["running"], "running", true),
    field("string is case-sensitive", ["running"], "Running", false),
    field("empty string matches only the empty string", [""], "", true),
    field("empty string does not match a missing field", [""], undefined, false),
    field("a number matches the same number", [300], 300, true),
    field("300 equals 300.0 (compared by value, like AWS)", [300], 300.0, true),
    field("a fraction matches the same fraction", [1.5], 1.5, true),
    field("numbers differing in the sixth decimal differ", [1.5], 1.500001, false),
    field("a number never matches its string", [300], "300", false),
    field("a string never matches its number", ["300"], 300, false),
    field(
      "a large account id matches exactly, outside the numeric range",
      [123456789012],
      123456789012,
      true,
    ),
    field("a large account id does not match a neighbour", [123456789012], 123456789013, false),
    field("true matches true", [true], true, true),
    field("true does not match the string", [true], "true", false),
    field("null matches null", [null], null, true),
    field("null does not match a missing field", [null], undefined, false),
    field("null does not match the string null", [null], "null", false),
    field("the list is an OR", ["a", 7, null], 7, true),
    field(
      "an IP literal matches the same address written differently",
      ["2001:db8::1"],
      "2001:0DB8:0:0:0:0:0:1",
      true,
    ),
    field("an IPv4 literal still needs the same address", ["10.0.0.1"], "10.0.0.2", false),
  ]);
});

describe("event arrays", () => {
  const employees = {
    employees: [
      { firstName: "John", lastName: "Doe" },
      { firstName: "Anna", lastName: "Smith" },
      { firstName: "Peter", lastName: "Jones" },
    ],
  };
  runCases([
    field("an array matches when any element does", ["b"], ["a", "b"], true),
    field("no element matches", ["c"], ["a", "b"], false),
    field("an empty array has no value", [null], [], false),
    field("nested arrays are flattened", ["deep"], [["x", ["deep"]]], true),
    {
      name: "objects inside arrays: one element satisfies the field",
      pattern: { employees: { firstName: ["Anna"] } },
      event: employees,
      matches: true,
    },
    {
      name: "two fields from the same element match",
      pattern: { employees: { firstName: ["Anna"], lastName: ["Smith"] } },
      event: employees,
      matches: true,
    },
    {
      name: "two fields from different elements of one array do not combine (array consistency)",
      pattern: { employees: { firstName: ["Anna"], lastName: ["Jones"] } },
      event: employees,
      matches: false,
    },
    {
      name: "fields under different arrays combine freely",
      pattern: { a: { x: ["1"] }, b: { y: ["2"] } },
      event: { a: [{ x: "0" }, { x: "1" }], b: [{ y: "2" }, { y: "3" }] },
      matches: true,
    },
    {
      name: "consistency holds through nested arrays",
      pattern: { groups: { users: { name: ["ann"], role: ["admin"] } } },
      event: {
        groups: [{ users: [{ name: "ann", role: "dev" }] }, { users: [{ name: "bob", role: "admin" }] }],
      },
      matches: false,
    },
    {
      name: "exists:false looks only at elements consistent with the fields already matched",
      pattern: { items: { id: ["a"], zz: [{ exists: false }] } },
      event: { items: [{ id: "a" }, { id: "b", zz: 1 }] },
      matches: true,
    },
    {
      name: "exists:false fails when the consistent element has the field",
      pattern: { items: { id: ["b"], zz: [{ exists: false }] } },
      event: { items: [{ id: "a" }, { id: "b", zz: 1 }] },
      matches: false,
    },
    {
      name: "anything-but on an array: any element outside the set is enough",
      pattern: { price: [{ "anything-but": [100, 500] }] },
      event: { price: [100, 50] },
      matches: true,
    },
    {
      name: "anything-but on an array whose elements are all excluded",
      pattern: { price: [{ "anything-but": [100, 500] }] },
      event: { price: [100, 500] },
      matches: false,
    },
  ]);
});

describe("paths", () => {
  runCases([
    {
      name: "nested keys",
      pattern: { detail: { a: { b: ["x"] } } },
      event: { detail: { a: { b: "x" } } },
      matches: true,
    },
    {
      name: "a dotted key in the event is the same path as nested keys",
      pattern: { detail: { state: { status: ["running"] } } },
      event: { detail: { "state.status": "running" } },
      matches: true,
    },
    {
      name: "a dotted key in the pattern reaches nested event keys",
      pattern: { "detail.state": ["on"] },
      event: { detail: { state: "on" } },
      matches: true,
    },
    {
      name: "a path through a string value has no value",
      pattern: { detail: { key: ["v"] } },
      event: { detail: '{"key": "v"}' },
      matches: false,
    },
    {
      name: "an object is not a value",
      pattern: { detail: ["x"] },
      event: { detail: { x: "x" } },
      matches: false,
    },
    { name: "a non-object event has no fields", pattern: { a: ["x"] }, event: "x", matches: false },
    { name: "a null event has no fields", pattern: { a: [{ exists: false }] }, event: null, matches: true },
    {
      name: "keys named like Object.prototype members are ordinary keys",
      pattern: { constructor: [{ exists: true }] },
      event: {},
      matches: false,
    },
    {
      name: "every field must hold (AND)",
      pattern: { source: ["aws.ecr"], "detail-type": ["ECR Image Action"] },
      event: { source: "aws.ecr", "detail-type": "ECR Image Scan" },
      matches: false,
    },
  ]);
});

describe("prefix, suffix, equals-ignore-case", () => {
  runCases([
    field("prefix", [{ prefix: "us-" }], "us-east-1", true),
    field("prefix is case-sensitive", [{ prefix: "US-" }], "us-east-1", false),
    field("prefix needs a string", [{ prefix: "1" }], 12, false),
    field("an empty prefix matches any string", [{ prefix: "" }], "", true),
    field("an empty prefix does not match a number", [{ prefix: "" }], 1, false),
    field("an empty prefix does not match null", [{ prefix: "" }], null, false),
    field("prefix ignoring case", [{ prefix: { "equals-ignore-case": "EventB" } }], "eventbridge", true),
    field(
      "prefix ignoring case still needs the prefix",
      [{ prefix: { "equals-ignore-case": "EventB" } }],
      "xeventb",
      false,
    ),
    field("suffix", [{ suffix: ".png" }], "image.png", true),
    field("suffix is case-sensitive", [{ suffix: ".png" }], "image.PNG", false),
    field("suffix ignoring case", [{ suffix: { "equals-ignore-case": ".png" } }], "IMAGE.PnG", true),
    field("equals-ignore-case", [{ "equals-ignore-case": "alice" }], "ALICE", true),
    field("equals-ignore-case is whole-string", [{ "equals-ignore-case": "alice" }], "alicex", false),
    field("equals-ignore-case on a non-string", [{ "equals-ignore-case": "true" }], true, false),
    field("exactly is a plain string match", [{ exactly: "10.0.0.1" }], "10.0.0.1", true),
  ]);
});

describe("anything-but", () => {
  runCases([
    field("a different string", [{ "anything-but": "stopped" }], "running", true),
    field("the excluded string", [{ "anything-but": "stopped" }], "stopped", false),
    field("a missing field is not 'anything but'", [{ "anything-but": "stopped" }], undefined, false),
    field("null is anything but a string", [{ "anything-but": "stopped" }], null, true),
    field("a number is anything but a string", [{ "anything-but": "101" }], 101, true),
    field("a string is anything but a number", [{ "anything-but": 101 }], "101", true),
    field("numbers are compared by value", [{ "anything-but": 100 }], 100.0, false),
    field("a number list", [{ "anything-but": [100, 200] }], 150, true),
    field("zero can be excluded", [{ "anything-but": 0 }], 0, false),
    field("a string list", [{ "anything-but": ["a", "b"] }], "b", false),
    field("prefix", [{ "anything-but": { prefix: "us-" } }], "eu-west-1", true),
    field("prefix, excluded", [{ "anything-but": { prefix: "us-" } }], "us-west-1", false),
    field("prefix list", [{ "anything-but": { prefix: ["us-", "eu-"] } }], "eu-west-1", false),
    field("prefix on a number", [{ "anything-but": { prefix: "1" } }], 12, true),
    field("suffix", [{ "anything-but": { suffix: ".png" } }], "a.jpg", true),
    field("suffix, excluded", [{ "anything-but": { suffix: [".png", ".jpg"] } }], "a.jpg", false),
    field("equals-ignore-case", [{ "anything-but": { "equals-ignore-case": "Stopped" } }], "STOPPED", false),
    field("equals-ignore-case list", [{ "anything-but": { "equals-ignore-case": ["a", "b"] } }], "C", true),
    field("wildcard", [{ "anything-but": { wildcard: "*/lib/*" } }], "src/app/main.ts", true),
    field("wildcard, excluded", [{ "anything-but": { wildcard: "*/lib/*" } }], "src/lib/x.ts", false),
    field("wildcard list", [{ "anything-but": { wildcard: ["*.png", "*.jpg"] } }], "a.jpg", false),
    field(
      "an empty wildcard excludes only the empty string",
      [{ "anything-but": { wildcard: "" } }],
      "",
      false,
    ),
  ]);
});

describe("numeric", () => {
  const between = [{ numeric: [">", 0, "<=", 5] }];
  runCases([
    field("inside an open/closed range", between, 3, true),
    field("the closed end is included", between, 5, true),
    field("the open end is excluded", between, 0, false),
    field("past the closed end", between, 5.000001, false),
    field(">= includes its bound", [{ numeric: [">=", 10] }], 10, true),
    field("< excludes its bound", [{ numeric: ["<", 10] }], 10, false),
    field("<= includes its bound", [{ numeric: ["<=", 10] }], 10, true),
    field("= compares by value", [{ numeric: ["=", 301.8] }], 3.018e2, true),
    field("negative numbers", [{ numeric: ["<", 0] }], -0.5, true),
    field("a numeric string is not a number", [{ numeric: [">", 100] }], "101", false),
    field("null is not a number", [{ numeric: [">", 100] }], null, false),
    field("a boolean is not a number", [{ numeric: [">", 0] }], true, false),
    field("the comparable range ends at 5e9", [{ numeric: [">=", 0] }], 5e9, true),
    field("values beyond 5e9 never match numeric", [{ numeric: [">", 0] }], 5_000_000_001, false),
    field("precision stops at six decimals", [{ numeric: [">", 0] }], 0.0000001, false),
    field("every element of an array is tried", [{ numeric: [">", 10] }], [1, 2, 30], true),
  ]);
});

describe("cidr", () => {
  runCases([
    field("IPv4 inside", [{ cidr: "10.0.0.0/24" }], "10.0.0.255", true),
    field("IPv4 just outside", [{ cidr: "10.0.0.0/24" }], "10.0.1.0", false),
    field("host bits in the operand are ignored", [{ cidr: "10.0.0.7/24" }], "10.0.0.1", true),
    field("/0 covers every IPv4 address", [{ cidr: "0.0.0.0/0" }], "255.255.255.255", true),
    field("/31", [{ cidr: "192.168.1.2/31" }], "192.168.1.3", true),
    field("/31, outside", [{ cidr: "192.168.1.2/31" }], "192.168.1.4", false),
    field("IPv6 /64", [{ cidr: "2001:db8:1234:1a00::/64" }], "2001:db8:1234:1a00:ffff:ffff:ffff:ffff", true),
    field("IPv6 outside /64", [{ cidr: "2001:db8:1234:1a00::/64" }], "2001:db8:1234:1a01::", false),
    field(
      "IPv6 written in full and upper-case",
      [{ cidr: "2001:db8::/32" }],
      "2001:0DB8:FFFF:0000:0000:0000:0000:0001",
      true,
    ),
    field("an IPv4-mapped IPv6 value reads as IPv4", [{ cidr: "10.0.0.0/8" }], "::ffff:a01:203", true),
    field("families do not mix", [{ cidr: "10.0.0.0/8" }], "::a00:1", false),
    field("a non-IP string does not match", [{ cidr: "10.0.0.0/8" }], "10.0.0", false),
    field("an octet above 255 is no address", [{ cidr: "10.0.0.0/8" }], "10.0.0.256", false),
    field("a number does not match", [{ cidr: "10.0.0.0/8" }], 10, false),
  ]);
});

describe("exists", () => {
  runCases([
    field("exists:true on a string", [{ exists: true }], "x", true),
    field("exists:true on null (a value)", [{ exists: true }], null, true),
    field("exists:true on an empty array (no value)", [{ exists: true }], [], false),
    field("exists:true on an object (not a leaf)", [{ exists: true }], { a: 1 }, false),
    field("exists:true on a missing field", [{ exists: true }], undefined, false),
    field("exists:false on a missing field", [{ exists: false }], undefined, true),
    field("exists:false on an object (not a leaf)", [{ exists: false }], { a: 1 }, true),
    field("exists:false on a value", [{ exists: false }], "x", false),
    field("exists:false OR a value: absent", [{ exists: false }, "x"], undefined, true),
    field("exists:false OR a value: that value", [{ exists: false }, "x"], "x", true),
    field("exists:false OR a value: another value", [{ exists: false }, "x"], "y", false),
  ]);
});

describe("wildcard", () => {
  runCases([
    field(
      "a star in the middle",
      [{ wildcard: "arn:aws:events:*:event-bus/*" }],
      "arn:aws:events:us-east-1:1:event-bus/b",
      true,
    ),
    field("a star matches nothing too", [{ wildcard: "a*b" }], "ab", true),
    field("a star alone matches any string", [{ wildcard: "*" }], "", true),
    field("a star alone does not match a number", [{ wildcard: "*" }], 1, false),
    field("no star is an exact match", [{ wildcard: "abc" }], "abcd", false),
    field("an empty wildcard matches the empty string only", [{ wildcard: "" }], "x", false),
    field("runs must appear in order", [{ wildcard: "*b*a*" }], "ab", false),
    field("the suffix may not overlap the prefix", [{ wildcard: "ab*ba" }], "aba", false),
    field("an escaped star is a literal star", [{ wildcard: "a\\*b" }], "a*b", true),
    field("an escaped star is not a wildcard", [{ wildcard: "a\\*b" }], "axb", false),
    field("an escaped backslash is a literal backslash", [{ wildcard: "C:\\\\*" }], "C:\\Windows", true),
    field("an escaped backslash followed by a star", [{ wildcard: "a\\\\*" }], "a\\xyz", true),
    field("an escaped star then a star", [{ wildcard: "\\**" }], "*anything", true),
    field("matching is case-sensitive", [{ wildcard: "*.PNG" }], "a.png", false),
  ]);

  it("agrees with a reference matcher on random patterns and values", () => {
    const pattern = fc
      .array(fc.constantFrom("a", "b", "*"), { maxLength: 7 })
      .map((chars) => chars.join("").replace(/\*{2,}/g, "*"));
    const value = fc.array(fc.constantFrom("a", "b"), { maxLength: 9 }).map((chars) => chars.join(""));
    fc.assert(
      fc.property(pattern, value, (wildcard, text) => {
        const reference = new RegExp(`^${wildcard.replaceAll("*", ".*")}$`).test(text);
        expect(matchesEventPattern({ f: [{ wildcard }] }, { f: text })).toBe(reference);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    // AWS accepts these (LocalStack corpus, and the Ruler README example).
    { patterns: ["/Users/*/dir/dir/dir/dir/dir/doc.txt"], accepted: true },
    { patterns: ["arn:aws:events:us-east-1:*:event-bus/*"], accepted: true },
    { patterns: ["*.bif", "*.tiff", "*.tif", "*.svs"], accepted: true },
    { patterns: ["*:stack/Shared/*", "*:stack/Api/*", "*:stack/Data/*"], accepted: true },
    // ...and rejects these as too complex: many stars, or many similar patterns on one field.
    { patterns: ["*:*:*:*:*:event-bus/*"], accepted: false },
    {
      patterns: ["*:stack/Shared/*", "*:stack/Api/*", "*:stack/Data/*", "*:stack/Monitoring/*"],
      accepted: false,
    },
    { patterns: ["*/sync/*.bif", "*/sync/*.tif", "*/sync/*.tiff", "*/sync/*.svs"], accepted: false },
    { patterns: ["*a*a*a*a*a*"], accepted: false },
  ])("complexity: $patterns accepted=$accepted", ({ patterns, accepted }) => {
    const compile = () => compileEventPattern({ f: patterns.map((wildcard) => ({ wildcard })) });
    if (accepted) expect(compile).not.toThrow();
    else expect(compile).toThrow(/Rule is too complex/);
  });

  it("counts negated wildcards and every $or branch of the same field together", () => {
    const four = ["*:stack/Shared/*", "*:stack/Api/*", "*:stack/Data/*", "*:stack/Monitoring/*"];
    expect(() => compileEventPattern({ f: [{ "anything-but": { wildcard: four } }] })).toThrow(/too complex/);
    expect(() => compileEventPattern({ $or: four.map((wildcard) => ({ f: [{ wildcard }] })) })).toThrow(
      /too complex/,
    );
    expect(() =>
      compileEventPattern({ f: [{ wildcard: four[0] }, { wildcard: four[1] }], g: [{ wildcard: four[2] }] }),
    ).not.toThrow();
  });
});

describe("$or", () => {
  const pattern = {
    source: ["aws.cloudwatch"],
    $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"], metricType: ["MetricType"] }],
  };
  runCases([
    {
      name: "first branch",
      pattern,
      event: { source: "aws.cloudwatch", metricName: "CPUUtilization" },
      matches: true,
    },
    {
      name: "second branch needs all its fields",
      pattern,
      event: { source: "aws.cloudwatch", namespace: "AWS/EC2", metricType: "MetricType" },
      matches: true,
    },
    {
      name: "half a branch",
      pattern,
      event: { source: "aws.cloudwatch", namespace: "AWS/EC2" },
      matches: false,
    },
    {
      name: "fields outside $or still apply",
      pattern,
      event: { source: "x", metricName: "CPUUtilization" },
      matches: false,
    },
    {
      name: "nested under a key",
      pattern: { detail: { $or: [{ a: [1] }, { b: [2] }] } },
      event: { detail: { b: 2 } },
      matches: true,
    },
    {
      name: "a $or inside a $or branch",
      pattern: { $or: [{ a: ["1"], $or: [{ b: ["2"] }, { c: ["3"] }] }, { d: ["4"] }] },
      event: { a: "1", c: "3" },
      matches: true,
    },
    {
      name: "a field set before and inside $or keeps the later value",
      pattern: { a: ["1"], $or: [{ a: ["2"] }, { b: ["3"] }] },
      event: { a: "2" },
      matches: true,
    },
    {
      name: "...so the earlier value no longer matches in that branch",
      pattern: { a: ["1"], $or: [{ a: ["2"] }, { b: ["3"] }] },
      event: { a: "1" },
      matches: false,
    },
    {
      name: "a $or whose value is an object is an ordinary field name",
      pattern: { $or: { x: ["1"] } },
      event: { $or: { x: "1" } },
      matches: true,
    },
  ]);
});

describe("pattern input", () => {
  it("accepts the pattern as JSON text, where a duplicated key keeps its last value", () => {
    const text = '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}';
    const compiled = compileEventPattern(text);
    expect(compiled.matches({ detail: { location: "eu-central-1" } })).toBe(true);
    expect(compiled.matches({ detail: { location: "us-east" } })).toBe(false);
  });

  it("a dotted path written twice keeps the later constraint", () => {
    const compiled = compileEventPattern({
      detail: { state: { status: ["a"] } },
      "detail.state.status": ["b"],
    });
    expect(compiled.matches({ detail: { state: { status: "b" } } })).toBe(true);
    expect(compiled.matches({ detail: { state: { status: "a" } } })).toBe(false);
  });

  it("compiles once and matches many events with the same answers", () => {
    const compiled = compileEventPattern({ detail: { n: [{ numeric: [">", 10] }], s: [{ prefix: "a" }] } });
    const events = Array.from({ length: 50 }, (_, i) => ({ detail: { n: i, s: i % 2 ? "abc" : "xbc" } }));
    const results = events.map((event) => compiled.matches(event));
    expect(results.filter(Boolean)).toHaveLength(20);
    expect(events.map((event) => compiled.matches(event))).toEqual(results);
  });

  it("does not depend on the event being JSON-clean", () => {
    const compiled = compileEventPattern({ a: [{ exists: false }] });
    expect(compiled.matches({ a: undefined })).toBe(true);
    expect(compiled.matches({ a: () => 1 })).toBe(true);
  });

  it("rejects invalid JSON text with an InvalidEventPatternError", () => {
    expect(() => compileEventPattern("{not json")).toThrow(InvalidEventPatternError);
    expect(reasonOf("{not json")).toMatch(/^Filter is not valid JSON: /);
  });

  it("is an Error with AWS's message shape", () => {
    const error = (() => {
      try {
        compileEventPattern({ a: "x" });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as Error).message).toBe(
      'Event pattern is not valid. Reason: "a" must be an object or an array',
    );
  });
});

describe("invalid patterns name AWS's reason", () => {
  it.each<[string, unknown, string]>([
    ["an array at the top", [{ a: ["x"] }], "Filter is not an object"],
    ["a string at the top", '"text"', "Filter is not an object"],
    ["an empty pattern", {}, "Empty objects are not allowed"],
    ["an empty nested object", { detail: {} }, "Empty objects are not allowed"],
    ["a bare value", { a: "x" }, '"a" must be an object or an array'],
    ["a bare number", { a: 1 }, '"a" must be an object or an array'],
    ["null as a field", { a: null }, '"a" must be an object or an array'],
    ["an empty value list", { a: [] }, "Empty arrays are not allowed"],
    ["a nested array value", { a: [["x"]] }, "Match value must be String, number, true, false, or null"],
    ["an empty match expression", { a: [{}] }, "Match expression name not found"],
    ["an unknown operator", { a: [{ contains: "x" }] }, "Unrecognized match type contains"],
    ["an upper-case operator", { a: [{ PREFIX: "x" }] }, "Unrecognized match type PREFIX"],
    [
      "two operators in one expression",
      { a: [{ prefix: "x", suffix: "y" }] },
      "Only one key allowed in match expression",
    ],
    ["prefix with a number", { a: [{ prefix: 1 }] }, "prefix match pattern must be a string"],
    [
      "prefix with an unknown nested operator",
      { a: [{ prefix: { wildcard: "x" } }] },
      "Unsupported prefix pattern: wildcard",
    ],
    ["suffix with an empty object", { a: [{ suffix: {} }] }, "Suffix expression name not found"],
    [
      "equals-ignore-case with a list",
      { a: [{ "equals-ignore-case": ["x"] }] },
      "equals-ignore-case match pattern must be a string",
    ],
    [
      "exists with a string",
      { a: [{ exists: "true" }] },
      "exists match pattern must be either true or false.",
    ],
    ["exactly with a number", { a: [{ exactly: 1 }] }, "exact match pattern must be a string"],
    [
      "anything-but null",
      { a: [{ "anything-but": null }] },
      "Value of anything-but must be an array or single string/number value.",
    ],
    [
      "anything-but true",
      { a: [{ "anything-but": true }] },
      "Value of anything-but must be an array or single string/number value.",
    ],
    [
      "anything-but an empty list",
      { a: [{ "anything-but": [] }] },
      "Inside anything but list, either all values are number or string, mixed type is not supported",
    ],
    [
      "anything-but mixed types",
      { a: [{ "anything-but": ["a", 1] }] },
      "Inside anything but list, either all values are number or string, mixed type is not supported",
    ],
    [
      "anything-but with a boolean in the list",
      { a: [{ "anything-but": ["a", false] }] },
      "Inside anything but list, start|null|boolean is not supported.",
    ],
    [
      "anything-but an unknown operator",
      { a: [{ "anything-but": { numeric: [">", 1] } }] },
      "Unsupported anything-but pattern: numeric",
    ],
    [
      "anything-but an empty object",
      { a: [{ "anything-but": {} }] },
      "Anything-But expression name not found",
    ],
    [
      "anything-but an empty suffix",
      { a: [{ "anything-but": { suffix: "" } }] },
      "Null prefix/suffix not allowed",
    ],
    [
      "anything-but an empty prefix list",
      { a: [{ "anything-but": { prefix: [] } }] },
      "Empty arrays are not allowed",
    ],
    [
      "anything-but with an extra key",
      { a: [{ "anything-but": "x", prefix: "y" }] },
      "Too many elements in numeric expression",
    ],
    [
      "anything-but a number out of range",
      { a: [{ "anything-but": 6e9 }] },
      "Value must be between -5000000000 and 5000000000, inclusive",
    ],
    ["numeric not an array", { a: [{ numeric: 5 }] }, "Value of numeric must be an array."],
    ["numeric empty", { a: [{ numeric: [] }] }, "Invalid member in numeric match: ]"],
    ["numeric starting with a number", { a: [{ numeric: [5] }] }, "Invalid member in numeric match: 5"],
    [
      "numeric with an unknown operator",
      { a: [{ numeric: ["!=", 5] }] },
      "Unrecognized numeric range operator: !=",
    ],
    ["numeric = without a value", { a: [{ numeric: ["="] }] }, "Value of equals must be numeric"],
    ["numeric with a string value", { a: [{ numeric: [">", "5"] }] }, "Value of > must be numeric"],
    [
      "numeric = followed by more",
      { a: [{ numeric: ["=", 5, "<", 6] }] },
      "Too many elements in numeric expression",
    ],
    [
      "numeric upper bound first",
      { a: [{ numeric: ["<", 10, ">", 0] }] },
      "Too many elements in numeric expression",
    ],
    ["numeric two lower bounds", { a: [{ numeric: [">", 0, ">=", 5] }] }, "Bad numeric range operator: >="],
    [
      "numeric range with a number where the operator goes",
      { a: [{ numeric: [">", 0, 5] }] },
      "Bad value in numeric range: 5",
    ],
    ["numeric range missing its top", { a: [{ numeric: [">", 0, "<="] }] }, "Value of <= must be numeric"],
    [
      "numeric range with extra terms",
      { a: [{ numeric: [">", 0, "<", 5, 6] }] },
      "Too many terms in numeric range expression",
    ],
    ["numeric range upside down", { a: [{ numeric: [">", 5, "<", 1] }] }, "Bottom must be less than top"],
    ["numeric empty range", { a: [{ numeric: [">=", 5, "<=", 5] }] }, "Bottom must be less than top"],
    [
      "numeric beyond 5e9",
      { a: [{ numeric: [">", 5.5e9] }] },
      "Value must be between -5000000000 and 5000000000, inclusive",
    ],
    [
      "numeric with an extra key",
      { a: [{ numeric: [">", 1], exists: true }] },
      "Too many elements in numeric expression",
    ],
    ["cidr not a string", { a: [{ cidr: 10 }] }, "prefix match pattern must be a string"],
    ["cidr without a mask", { a: [{ cidr: "10.0.0.0" }] }, "Malformed CIDR, one '/' required"],
    ["cidr with two masks", { a: [{ cidr: "10.0.0.0/8/8" }] }, "Malformed CIDR, one '/' required"],
    [
      "cidr with a text mask",
      { a: [{ cidr: "10.0.0.0/eight" }] },
      "Malformed CIDR, mask bits must be an integer",
    ],
    [
      "cidr with a negative mask",
      { a: [{ cidr: "10.0.0.0/-1" }] },
      "Malformed CIDR, mask bits must not be negative",
    ],
    ["cidr /32", { a: [{ cidr: "10.0.0.1/32" }] }, "IPv4 mask bits must be < 32"],
    ["cidr IPv6 /128", { a: [{ cidr: "2001:db8::1/128" }] }, "IPv6 mask bits must be < 128"],
    ["cidr with a host name", { a: [{ cidr: "example.com/24" }] }, "Nonstandard IP address: example.com"],
    ["cidr with an octet above 255", { a: [{ cidr: "10.0.0.256/24" }] }, "Invalid IP address: 10.0.0.256"],
    [
      "cidr with a malformed IPv6 address",
      { a: [{ cidr: "2001:db8::1::2/64" }] },
      "Invalid IP address: 2001:db8::1::2",
    ],
    ["wildcard with a list", { a: [{ wildcard: ["*"] }] }, "wildcard match pattern must be a string"],
    [
      "wildcard with consecutive stars",
      { a: [{ wildcard: "ab**" }] },
      "Consecutive wildcard characters at pos 3",
    ],
    [
      "wildcard position counts UTF-8 bytes",
      { a: [{ wildcard: "é**" }] },
      "Consecutive wildcard characters at pos 3",
    ],
    ["wildcard with an unknown escape", { a: [{ wildcard: "a\\b" }] }, "Invalid escape character at pos 2"],
    ["wildcard ending in a backslash", { a: [{ wildcard: "ab\\" }] }, "Invalid escape character at pos 3"],
    [
      "wildcard escapes after an escaped backslash",
      { a: [{ wildcard: "\\\\**" }] },
      "Consecutive wildcard characters at pos 3",
    ],
    ["$or with no branches", { $or: [] }, "There must have at least 2 Objects in $or relationship."],
    [
      "$or with one branch",
      { $or: [{ a: ["1"] }] },
      "There must have at least 2 Objects in $or relationship.",
    ],
    [
      "$or with a non-object branch",
      { $or: [{ a: ["1"] }, "b"] },
      "Only JSON object is allowed in array of $or relationship.",
    ],
    ["$or with a string", { $or: "x" }, "It must be an Array followed with $or."],
    [
      "an operator name as a field inside $or",
      { $or: [{ prefix: ["1"] }, { b: ["2"] }] },
      "prefix is Ruler reserved fieldName which cannot be used inside $or.",
    ],
    ["a bare value inside $or", { $or: [{ a: "1" }, { b: ["2"] }] }, '"a" must be an object or an array'],
  ])("%s", (_name, pattern, reason) => {
    expect(reasonOf(pattern)).toBe(reason);
  });

  it("bounds the number of $or combinations", () => {
    const branches = (key: string) => Array.from({ length: 11 }, (_, i) => ({ [`${key}${i}`]: ["x"] }));
    const pattern = { a: { $or: branches("a") }, b: { $or: branches("b") }, c: { $or: branches("c") } };
    expect(reasonOf(pattern)).toMatch(/more than 1000 \$or combinations/);
  });

  it("bounds nesting depth instead of overflowing the stack", () => {
    let pattern: Record<string, unknown> = { leaf: ["x"] };
    for (let i = 0; i < 5000; i++) pattern = { n: pattern };
    expect(reasonOf(pattern)).toMatch(/nested more than 100 levels/);
  });

  it("matches through deeply nested event arrays without overflowing the stack", () => {
    let value: unknown = "deep";
    for (let i = 0; i < 50_000; i++) value = [value];
    expect(matchesEventPattern({ f: ["deep"] }, { f: value })).toBe(true);
  });
});
