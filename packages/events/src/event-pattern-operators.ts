/**
 * Compiles the value list of one pattern field (`"state": ["running", {"prefix": "stop"}]`) into a
 * single leaf test, validating every entry the way EventBridge does and with its error wording. The
 * order of the checks follows aws/event-ruler's streaming parser, because it decides which error a
 * pattern with several faults reports.
 */
import { invalidPattern } from "./event-pattern-error.ts";
import { ipInRange, ipToHex, parseCidr, singleAddressRange } from "./event-pattern-ip.ts";
import {
  comparableNumber,
  compileNumericOperand,
  exactNumberTest,
  isFiniteNumber,
  requireComparable,
} from "./event-pattern-numbers.ts";
import {
  type FieldMatcher,
  isJsonObject,
  type JsonObject,
  type LeafTest,
  type WildcardOperand,
} from "./event-pattern-types.ts";
import { matchesWildcard, parseWildcard } from "./event-pattern-wildcard.ts";

/** One entry of a value list: a test on present values, or `{"exists": false}`. */
type Term =
  | { readonly test: LeafTest; readonly wildcards?: readonly WildcardOperand[] }
  | { readonly absent: true };

const always: LeafTest = () => true;
const never: LeafTest = () => false;

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function anyOf(tests: readonly LeafTest[]): LeafTest {
  if (tests.length === 0) return never;
  if (tests.length === 1) return tests[0] ?? never;
  return (value) => tests.some((test) => test(value));
}

// ---------------------------------------------------------------------------------------------------
// Positive string operators

function prefixTest(prefix: string, ignoreCase: boolean): LeafTest {
  if (!ignoreCase) return (value) => isString(value) && value.startsWith(prefix);
  const lower = prefix.toLowerCase();
  return (value) => isString(value) && value.toLowerCase().startsWith(lower);
}

function suffixTest(suffix: string, ignoreCase: boolean): LeafTest {
  if (!ignoreCase) return (value) => isString(value) && value.endsWith(suffix);
  const lower = suffix.toLowerCase();
  return (value) => isString(value) && value.toLowerCase().endsWith(lower);
}

function equalsIgnoreCaseTest(text: string): LeafTest {
  const lower = text.toLowerCase();
  return (value) => isString(value) && value.toLowerCase() === lower;
}

function requireString(value: unknown, message: string): string {
  return isString(value) ? value : invalidPattern(message);
}

/** `prefix`/`suffix`: a string, or `{"equals-ignore-case": "..."}` for the case-insensitive form. */
function compileAffix(operator: "prefix" | "suffix", operand: unknown): Term {
  const build = operator === "prefix" ? prefixTest : suffixTest;
  if (!isJsonObject(operand)) {
    // An empty affix is valid: AWS matches it against the quoted value, so it means "any string".
    return { test: build(requireString(operand, `${operator} match pattern must be a string`), false) };
  }
  const [inner, ...extra] = Object.keys(operand);
  const title = operator === "prefix" ? "Prefix" : "Suffix";
  if (inner === undefined) invalidPattern(`${title} expression name not found`);
  if (inner !== "equals-ignore-case") invalidPattern(`Unsupported ${operator} pattern: ${inner}`);
  const text = requireString(operand[inner], "equals-ignore-case match pattern must be a string");
  if (extra.length > 0) invalidPattern("Only one key allowed in match expression");
  return { test: build(text, true) };
}

function compileWildcard(operand: unknown): Term {
  const source = requireString(operand, "wildcard match pattern must be a string");
  const pattern = parseWildcard(source);
  return {
    test: (value) => isString(value) && matchesWildcard(pattern, value),
    wildcards: [{ source, negated: false }],
  };
}

function compileCidr(operand: unknown): Term {
  // "prefix" is not a typo here: it is the message AWS returns for a non-string cidr.
  const range = parseCidr(requireString(operand, "prefix match pattern must be a string"));
  return {
    test: (value) => {
      const hex = isString(value) ? ipToHex(value) : undefined;
      return hex !== undefined && ipInRange(hex, range);
    },
  };
}

function compileExists(operand: unknown): Term {
  if (typeof operand !== "boolean") invalidPattern("exists match pattern must be either true or false.");
  // exists:true holds for any leaf, null included; an empty array or an object is not a leaf.
  return operand ? { test: always } : { absent: true };
}

// ---------------------------------------------------------------------------------------------------
// anything-but. Every form matches a value of another type (a number for a string list, null, a
// boolean), but never an absent field: a missing field has no value to be "anything but".

const INVALID_ANYTHING_BUT_VALUE = "Value of anything-but must be an array or single string/number value.";

type NegatedOperator = "prefix" | "suffix" | "equals-ignore-case" | "wildcard";
const NEGATED_OPERATORS: ReadonlySet<string> = new Set<NegatedOperator>([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
]);

const NEGATED_TYPE_ERRORS: Readonly<Record<NegatedOperator, string>> = {
  prefix: "prefix/suffix match pattern must be a string",
  suffix: "prefix/suffix match pattern must be a string",
  "equals-ignore-case":
    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
  wildcard: "wildcard match pattern must be a string",
};

function negatedStrings(operator: NegatedOperator, operand: unknown): string[] {
  if (!(Array.isArray(operand) || isString(operand) || isFiniteNumber(operand))) {
    invalidPattern(INVALID_ANYTHING_BUT_VALUE);
  }
  const values = (Array.isArray(operand) ? operand : [operand]).map((value) => {
    const text = requireString(value, NEGATED_TYPE_ERRORS[operator]);
    if (text === "" && (operator === "prefix" || operator === "suffix")) {
      invalidPattern("Null prefix/suffix not allowed");
    }
    return text;
  });
  // AWS accepts an empty list here and then fails to evaluate the rule; "exclude nothing" is no
  // behaviour to copy, so it is refused like every other empty list.
  if (values.length === 0) invalidPattern("Empty arrays are not allowed");
  return values;
}

function negatedTest(operator: NegatedOperator, values: readonly string[]): LeafTest {
  switch (operator) {
    case "prefix":
      return (value) => !isString(value) || !values.some((prefix) => value.startsWith(prefix));
    case "suffix":
      return (value) => !isString(value) || !values.some((suffix) => value.endsWith(suffix));
    case "equals-ignore-case": {
      const lower = new Set(values.map((text) => text.toLowerCase()));
      return (value) => !isString(value) || !lower.has(value.toLowerCase());
    }
    case "wildcard": {
      const patterns = values.map(parseWildcard);
      return (value) => !isString(value) || !patterns.some((pattern) => matchesWildcard(pattern, value));
    }
  }
}

/** `{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": value or list}}` */
function compileNegatedOperator(operand: JsonObject): Term {
  const [inner, ...extra] = Object.keys(operand);
  if (inner === undefined) invalidPattern("Anything-But expression name not found");
  if (!NEGATED_OPERATORS.has(inner)) invalidPattern(`Unsupported anything-but pattern: ${inner}`);
  const operator = inner as NegatedOperator;
  const values = negatedStrings(operator, operand[inner]);
  const test = negatedTest(operator, values);
  // AWS's parser reports any extra key here with its numeric-expression message.
  if (extra.length > 0) invalidPattern("Too many elements in numeric expression");
  if (operator !== "wildcard") return { test };
  return { test, wildcards: values.map((source) => ({ source, negated: true })) };
}

/** `{"anything-but": [...]}`: all strings or all numbers, nothing else. */
function compileNegatedList(operand: readonly unknown[]): Term {
  const strings = new Set<string>();
  const numbers = new Set<number>();
  for (const value of operand) {
    if (isString(value)) strings.add(value);
    else if (isFiniteNumber(value)) numbers.add(requireComparable(value));
    else invalidPattern("Inside anything but list, start|null|boolean is not supported.");
  }
  if (strings.size > 0 === numbers.size > 0) {
    invalidPattern(
      "Inside anything but list, either all values are number or string, mixed type is not supported",
    );
  }
  return { test: negatedValuesTest(strings, numbers) };
}

/** Excluded numbers are compared in AWS's comparable form, so 100 also excludes 100.0. */
function negatedValuesTest(strings: ReadonlySet<string>, numbers: ReadonlySet<number>): LeafTest {
  return (value) => {
    if (isString(value)) return !strings.has(value);
    if (typeof value !== "number") return true;
    const comparable = comparableNumber(value);
    return comparable === undefined || !numbers.has(comparable);
  };
}

function compileAnythingBut(operand: unknown): Term {
  if (isJsonObject(operand)) return compileNegatedOperator(operand);
  if (Array.isArray(operand)) return compileNegatedList(operand);
  if (isString(operand)) return { test: negatedValuesTest(new Set([operand]), new Set()) };
  if (isFiniteNumber(operand)) {
    return { test: negatedValuesTest(new Set(), new Set([requireComparable(operand)])) };
  }
  return invalidPattern(INVALID_ANYTHING_BUT_VALUE);
}

// ---------------------------------------------------------------------------------------------------
// Match expressions and value lists

type OperatorCompiler = (operand: unknown) => Term;

const OPERATORS: ReadonlyMap<string, OperatorCompiler> = new Map<string, OperatorCompiler>([
  // `exactly` is Event Ruler's explicit spelling of a plain string value (no IP-literal handling).
  ["exactly", (operand) => exactStringTerm(requireString(operand, "exact match pattern must be a string"))],
  ["prefix", (operand) => compileAffix("prefix", operand)],
  ["suffix", (operand) => compileAffix("suffix", operand)],
  [
    "equals-ignore-case",
    (operand) => ({
      test: equalsIgnoreCaseTest(requireString(operand, "equals-ignore-case match pattern must be a string")),
    }),
  ],
  ["wildcard", compileWildcard],
  ["cidr", compileCidr],
  ["numeric", (operand) => ({ test: compileNumericOperand(operand) })],
  ["exists", compileExists],
  ["anything-but", compileAnythingBut],
]);

function exactStringTerm(text: string): Term {
  return { test: (value) => value === text };
}

/** `{"operator": operand}`. Operator names are case-sensitive: `NUMERIC` is unrecognized. */
function compileMatchExpression(expression: JsonObject): Term {
  const [operator, ...extra] = Object.keys(expression);
  if (operator === undefined) invalidPattern("Match expression name not found");
  const compile = OPERATORS.get(operator) ?? invalidPattern(`Unrecognized match type ${operator}`);
  const compiled = compile(expression[operator]);
  if (extra.length > 0) {
    // AWS's parser only notices the second key after the operand, and for these two operators it
    // reports it with its numeric-expression message.
    const numericStyle = operator === "numeric" || operator === "anything-but";
    invalidPattern(
      numericStyle ? "Too many elements in numeric expression" : "Only one key allowed in match expression",
    );
  }
  return compiled;
}

/** A plain string value. One that is an IP literal matches the same address written another way. */
function plainStringTerm(text: string): Term {
  const address = singleAddressRange(text);
  if (address === undefined) return exactStringTerm(text);
  return {
    test: (value) => {
      const hex = isString(value) ? ipToHex(value) : undefined;
      return hex !== undefined && ipInRange(hex, address);
    },
  };
}

function compileValue(value: unknown): Term {
  if (isJsonObject(value)) return compileMatchExpression(value);
  if (isString(value)) return plainStringTerm(value);
  if (isFiniteNumber(value)) return { test: exactNumberTest(value) };
  if (typeof value === "boolean" || value === null) return { test: (leaf) => leaf === value };
  return invalidPattern("Match value must be String, number, true, false, or null");
}

/** The value list of one field: the field matches when any entry does (an OR). */
export function compileFieldMatcher(values: readonly unknown[]): FieldMatcher {
  if (values.length === 0) invalidPattern("Empty arrays are not allowed");
  const tests: LeafTest[] = [];
  const wildcards: WildcardOperand[] = [];
  let acceptsAbsence = false;
  for (const term of values.map(compileValue)) {
    if ("absent" in term) {
      acceptsAbsence = true;
      continue;
    }
    tests.push(term.test);
    wildcards.push(...(term.wildcards ?? []));
  }
  return { test: anyOf(tests), acceptsAbsence, wildcards };
}
