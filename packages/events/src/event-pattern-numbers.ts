/**
 * Numbers as EventBridge compares them. aws/event-ruler turns a number into a "comparable" form only
 * within -5e9..5e9 and to six decimal places; numeric operators and numeric `anything-but` work on that
 * form, so an event value outside the range never satisfies `numeric`, and 300 equals 300.0.
 */
import { invalidPattern } from "./event-pattern-error.ts";
import type { LeafTest } from "./event-pattern-types.ts";

const FIVE_BILLION = 5e9;
const SIX_DECIMALS = 1e6;

/** The integer AWS compares for `n` (n scaled to six decimals), or undefined outside -5e9..5e9. */
export function comparableNumber(n: number): number | undefined {
  if (!Number.isFinite(n) || n < -FIVE_BILLION || n > FIVE_BILLION) return undefined;
  return Math.round(n * SIX_DECIMALS);
}

/** A number in a pattern operand must be comparable; AWS rejects the pattern otherwise. */
export function requireComparable(n: number): number {
  return (
    comparableNumber(n) ??
    invalidPattern(`Value must be between ${-FIVE_BILLION} and ${FIVE_BILLION}, inclusive`)
  );
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/**
 * A plain number in a pattern: Ruler matches it both numerically (when comparable) and by its literal
 * text, which is how a 12-digit account number still matches exactly.
 */
export function exactNumberTest(n: number): LeafTest {
  const comparable = comparableNumber(n);
  return (value) =>
    typeof value === "number" &&
    (value === n || (comparable !== undefined && comparableNumber(value) === comparable));
}

interface Bound {
  readonly value: number;
  readonly inclusive: boolean;
}

// AWS names "=" "equals" in its messages and uses the symbol for the others.
const OPERATOR_NAMES = new Map([
  ["=", "equals"],
  [">", ">"],
  [">=", ">="],
  ["<", "<"],
  ["<=", "<="],
]);

/** How AWS's streaming JSON parser names an unexpected token in a `numeric` array. */
function tokenText(value: unknown): string {
  if (Array.isArray(value)) return "[";
  if (typeof value === "object" && value !== null) return "{";
  return String(value);
}

function operand(operator: string, value: unknown): number {
  if (!isFiniteNumber(value)) {
    invalidPattern(`Value of ${OPERATOR_NAMES.get(operator) ?? operator} must be numeric`);
  }
  return value;
}

function rangeTest(lower: Bound | undefined, upper: Bound | undefined): LeafTest {
  return (value) => {
    if (typeof value !== "number") return false;
    const n = comparableNumber(value);
    if (n === undefined) return false;
    if (lower && (lower.inclusive ? n < lower.value : n <= lower.value)) return false;
    if (upper && (upper.inclusive ? n > upper.value : n >= upper.value)) return false;
    return true;
  };
}

function bound(operator: string, value: number): Bound {
  return { value: requireComparable(value), inclusive: operator.endsWith("=") };
}

/** The upper half of `[">", a, "<", b]`: only `<`/`<=` may follow a lower bound, and then nothing. */
function upperBoundAfterLower(terms: readonly unknown[]): { operator: string; value: number } {
  const operator = terms[2];
  if (typeof operator !== "string") invalidPattern(`Bad value in numeric range: ${tokenText(operator)}`);
  if (operator !== "<" && operator !== "<=") invalidPattern(`Bad numeric range operator: ${operator}`);
  const value = operand(operator, terms[3]);
  if (terms.length > 4) invalidPattern("Too many terms in numeric range expression");
  return { operator, value };
}

/**
 * Compiles the operand of `numeric`. The grammar is AWS's: one comparison, or a lower bound followed by
 * an upper bound (`["<", 10, ">", 0]` is rejected), with AWS's error for each way to get it wrong.
 */
export function compileNumericOperand(terms: unknown): LeafTest {
  if (!Array.isArray(terms)) invalidPattern("Value of numeric must be an array.");
  if (terms.length === 0) invalidPattern("Invalid member in numeric match: ]");
  const operator = terms[0];
  if (typeof operator !== "string") invalidPattern(`Invalid member in numeric match: ${tokenText(operator)}`);
  if (!OPERATOR_NAMES.has(operator)) invalidPattern(`Unrecognized numeric range operator: ${operator}`);
  const first = operand(operator, terms[1]);
  const opensRange = operator === ">" || operator === ">=";
  if (terms.length > 2 && !opensRange) invalidPattern("Too many elements in numeric expression");

  if (operator === "=") {
    const target = requireComparable(first);
    return rangeTest({ value: target, inclusive: true }, { value: target, inclusive: true });
  }
  if (!opensRange) return rangeTest(undefined, bound(operator, first));
  if (terms.length === 2) return rangeTest(bound(operator, first), undefined);

  const upper = upperBoundAfterLower(terms);
  const lower = bound(operator, first);
  const top = bound(upper.operator, upper.value);
  if (lower.value >= top.value) invalidPattern("Bottom must be less than top");
  return rangeTest(lower, top);
}
