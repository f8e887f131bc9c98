/**
 * Conformance: every case of the LocalStack EventBridge corpus (test/fixtures/eventbridge-patterns,
 * answered by the real `TestEventPattern` API) must get AWS's answer. One `it` per case.
 */
import { readFileSync } from "node:fs";
import JSON5 from "json5";
import { afterAll, describe, expect, it } from "vitest";
import { compileEventPattern, InvalidEventPatternError } from "../src/event-pattern.ts";

const corpus = new URL("../../../test/fixtures/eventbridge-patterns/", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, corpus), "utf8");

type Expectation = "match" | "no-match" | "invalid";
interface IndexEntry {
  file: string;
  expect: Expectation;
  validatedAgainstAws: boolean;
}
interface CaseFile {
  Event: unknown;
  EventPattern: unknown;
}

const index: IndexEntry[] = JSON.parse(read("index.json"));

/**
 * The reason AWS gave for each rejected pattern, from the corpus README (LocalStack's recorded
 * snapshots). LocalStack itself only checks the error type; checking the text too keeps our messages
 * AWS's.
 */
const awsReasons: Record<string, string> = {
  "arrays_empty_EXC.json5": "Empty arrays are not allowed",
  "content_anything_but_ignorecase_EXC.json5":
    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
  "content_anything_but_ignorecase_list_EXC.json5":
    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
  "content_anything_but_string_list_null_type_EXC.json5":
    "Inside anything but list, start|null|boolean is not supported.",
  "content_anything_but_string_null_type_EXC.json5":
    "Value of anything-but must be an array or single string/number value.",
  "content_anything_prefix_empty_EXC.json5": "Null prefix/suffix not allowed",
  "content_anything_prefix_ignorecase_EXC.json5":
    "Value of anything-but must be an array or single string/number value.",
  "content_anything_prefix_int_EXC.json5": "prefix/suffix match pattern must be a string",
  "content_anything_prefix_list_type_EXC.json5": "prefix/suffix match pattern must be a string",
  "content_anything_suffix_empty_EXC.json5": "Null prefix/suffix not allowed",
  "content_anything_suffix_ignorecase_EXC.json5":
    "Value of anything-but must be an array or single string/number value.",
  "content_anything_suffix_int_EXC.json5": "prefix/suffix match pattern must be a string",
  "content_anything_suffix_list_null_type_EXC.json5": "prefix/suffix match pattern must be a string",
  "content_anything_suffix_list_type_EXC.json5": "prefix/suffix match pattern must be a string",
  "content_anything_wildcard_list_type_EXC.json5": "wildcard match pattern must be a string",
  "content_anything_wildcard_type_EXC.json5": "wildcard match pattern must be a string",
  "content_ignorecase_EXC.json5": "equals-ignore-case match pattern must be a string",
  "content_ignorecase_list_EXC.json5": "equals-ignore-case match pattern must be a string",
  "content_ip_address_EXC.json5": "Malformed CIDR, one '/' required",
  "content_ip_address_bad_ip_EXC.json5": "Nonstandard IP address: xx.11.xx",
  "content_ip_address_bad_mask_EXC.json5": "Malformed CIDR, mask bits must be an integer",
  "content_ip_address_type_EXC.json5": "prefix match pattern must be a string",
  "content_ip_address_v6_bad_ip_EXC.json5": "Nonstandard IP address: xxxx:db8:1234:1a00::",
  "content_numeric_EXC.json5": "Bad numeric range operator: >",
  "content_numeric_number_EXC.json5": "Value of numeric must be an array.",
  "content_numeric_operatorcasing_EXC.json5": "Unrecognized match type NUMERIC",
  "content_numeric_syntax_EXC.json5": "Value of < must be numeric",
  "content_prefix_int_EXC.json5": "prefix match pattern must be a string",
  "content_prefix_list_EXC.json5": "prefix match pattern must be a string",
  "content_suffix_int_EXC.json5": "suffix match pattern must be a string",
  "content_suffix_list_EXC.json5": "suffix match pattern must be a string",
  "content_wildcard_complex_EXC.json5":
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character",
  "content_wildcard_int_EXC.json5": "wildcard match pattern must be a string",
  "content_wildcard_list_EXC.json5": "wildcard match pattern must be a string",
  "content_wildcard_repeating_star_EXC.json5": "Consecutive wildcard characters at pos 26",
  "int_nolist_EXC.json5": '"int" must be an object or an array',
  "operator_case_sensitive_EXC.json5": "Unrecognized match type EXISTS",
  "string_nolist_EXC.json5": '"string" must be an object or an array',
};

/**
 * Number literals. LocalStack sent AWS `"number": 300.0` (event) against `[300]` (pattern), and
 * `101.0` against `[">", 100]`; JSON5.parse in JavaScript turns both literals into the number 300 /
 * 101, so the literal text is gone before the matcher sees it. That is faithful rather than lossy:
 * AWS answered "match" precisely because it compares numbers by value (Ruler's comparable form, in
 * which 300 and 300.0 are one number), and the matcher does the same with any parsed value. What is
 * checked here is that the two cases still are the int-vs-float cases the README describes.
 */
const floatLiteralCases: Record<string, string> = {
  "number_comparison_float.json5": '"number": 300.0',
  "numeric-int-float.json5": '"number": 101.0',
};

function outcome(pattern: unknown, event: unknown): Expectation {
  try {
    return compileEventPattern(pattern).matches(event) ? "match" : "no-match";
  } catch (error) {
    if (error instanceof InvalidEventPatternError) return "invalid";
    throw error;
  }
}

let passed = 0;
const total = index.length + 1;

describe("EventBridge conformance corpus (LocalStack, validated against AWS)", () => {
  it("lists every single-file case in index.json", () => {
    expect(index.length).toBe(116);
    expect(new Set(index.map((entry) => entry.expect))).toEqual(new Set(["match", "no-match", "invalid"]));
  });

  for (const entry of index) {
    it(`${entry.file} → ${entry.expect}`, () => {
      const text = read(entry.file);
      const literal = floatLiteralCases[entry.file];
      if (literal) expect(text).toContain(literal);
      const { Event, EventPattern }: CaseFile = JSON5.parse(text);

      expect(outcome(EventPattern, Event)).toBe(entry.expect);
      if (entry.expect === "invalid") {
        const reason = awsReasons[entry.file];
        expect(reason, "every rejected case has its AWS reason on record").toBeDefined();
        expect(() => compileEventPattern(EventPattern)).toThrow(
          `Event pattern is not valid. Reason: ${reason}`,
        );
      }
      passed++;
    });
  }

  // Not in index.json: two plain JSON files, sent to AWS as raw text. The pattern repeats the key
  // `location`; AWS answered "match", so the last value wins (anything-but "us-east"), as it does in
  // JSON.parse. AND-ing both conditions would reject "eu-central-1" (no "us-" prefix).
  it("complex_multi_key_event.json + complex_multi_key_event_pattern.json (raw text, duplicate key) → match", () => {
    const patternText = read("complex_multi_key_event_pattern.json");
    expect(patternText.match(/"location"/g)).toHaveLength(2);
    const event = JSON.parse(read("complex_multi_key_event.json"));
    expect(compileEventPattern(patternText).matches(event)).toBe(true);
    passed++;
  });

  afterAll(() => {
    console.log(`EventBridge conformance: ${passed} of ${total} cases passed`);
  });
});
