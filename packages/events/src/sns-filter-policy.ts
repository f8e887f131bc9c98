/**
 * SNS subscription filter policies on message attributes (`FilterPolicyScope: MessageAttributes`),
 * matched the way SNS does it, so the sandbox fans out exactly as the deployed subscription would.
 *
 * The value syntax is EventBridge's (exact values, `prefix`, `suffix`, `equals-ignore-case`,
 * `anything-but`, `numeric`, `cidr`, `exists`, `$or`), so matching reuses the EventBridge matcher
 * on an event built from the attributes. Where SNS differs it is checked here first:
 * - the policy is flat: an attribute name maps to a value list (only `$or` nests);
 * - at most 5 attribute names and 150 value combinations: the product of the value lists' lengths,
 *   summed over the `$or` alternatives ("Filter policy constraints"; "AND/OR logic", "Policy
 *   constraints that include OR relationships": https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html);
 * - `$or` is an OR only with at least two objects none of which uses a reserved keyword as a field
 *   name; otherwise it is an ordinary attribute name ("AND/OR logic", "OR operator");
 * - no `wildcard` and no Ruler-only operators; `anything-but` takes values or `{"prefix": …}` only;
 * - attribute types: `String` is one value, `String.Array` (and `Number.Array`) is a JSON array
 *   whose elements each count, `Number` is compared as a number (a string value never matches a
 *   numeric condition, nor a number a string one), `Binary` attributes are ignored entirely.
 * Sources: AWS SNS developer guide, "Subscription filter policies", "Filter policy constraints",
 * "Attribute string value matching", "Numeric value matching", "Key matching", "AND/OR logic".
 */
import { type CompiledEventPattern, compileEventPattern, InvalidEventPatternError } from "./event-pattern.ts";

export const SNS_FILTER_POLICY_LIMITS = { keys: 5, combinations: 150 } as const;

export class InvalidSnsFilterPolicyError extends Error {
  constructor(readonly reason: string) {
    super(`Invalid parameter: FilterPolicy: ${reason}`);
    this.name = "InvalidSnsFilterPolicyError";
  }
}

/** The attribute shapes in use: LocalSns / our own, the Lambda SNS event, the SDK's Publish input. */
export type SnsAttributeValue =
  | { dataType: string; value: string }
  | { Type: string; Value: string }
  | { DataType: string; StringValue?: string };

export interface CompiledSnsFilterPolicy {
  /** Whether a message with these attributes is delivered to the subscription. Never throws. */
  matches(attributes: Readonly<Record<string, SnsAttributeValue>>): boolean;
}

const SNS_OPERATORS = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "anything-but",
  "numeric",
  "cidr",
  "exists",
]);
const OR = "$or";

/** Validates like SNS's Subscribe / SetSubscriptionAttributes, then compiles for matching. */
export function compileSnsFilterPolicy(policy: unknown): CompiledSnsFilterPolicy {
  const parsed = typeof policy === "string" ? parseJson(policy) : policy;
  if (!isObject(parsed)) throw new InvalidSnsFilterPolicyError("Filter policy must be a JSON object");
  const alternatives = expand(parsed);
  for (const alternative of alternatives) {
    if (alternative.size > SNS_FILTER_POLICY_LIMITS.keys) {
      throw new InvalidSnsFilterPolicyError(
        `Filter policy can not have more than ${SNS_FILTER_POLICY_LIMITS.keys} keys`,
      );
    }
  }
  const combinations = countCombinations(alternatives);
  if (combinations > SNS_FILTER_POLICY_LIMITS.combinations) {
    throw new InvalidSnsFilterPolicyError(
      `Filter policy is too complex: ${combinations} combinations of values, at most ` +
        `${SNS_FILTER_POLICY_LIMITS.combinations} (the number of values of each attribute multiplied ` +
        "together, added up over the $or alternatives)",
    );
  }
  let pattern: CompiledEventPattern;
  try {
    pattern = compileEventPattern(parsed);
  } catch (error) {
    if (error instanceof InvalidEventPatternError) throw new InvalidSnsFilterPolicyError(error.reason);
    throw error;
  }
  return Object.freeze({
    matches: (attributes: Readonly<Record<string, SnsAttributeValue>>) =>
      pattern.matches(attributesAsEvent(attributes)),
  });
}

/** The number SNS compares with its limit of 150 combinations of values. */
export function snsFilterPolicyCombinations(policy: unknown): number {
  const parsed = typeof policy === "string" ? parseJson(policy) : policy;
  if (!isObject(parsed)) throw new InvalidSnsFilterPolicyError("Filter policy must be a JSON object");
  return countCombinations(expand(parsed));
}

/** Per alternative, the product of its attributes' value counts; the alternatives add up. */
function countCombinations(alternatives: Map<string, unknown[]>[]): number {
  return alternatives.reduce(
    (sum, alternative) =>
      sum + [...alternative.values()].reduce((product, values) => product * values.length, 1),
    0,
  );
}

/** The policy's alternatives (one per `$or` combination), each attribute name → its value list. */
function expand(object: Record<string, unknown>): Map<string, unknown[]>[] {
  let alternatives: Map<string, unknown[]>[] = [new Map()];
  for (const [key, value] of Object.entries(object)) {
    if (key === OR && isOrOperator(value)) {
      alternatives = alternatives.flatMap((current) =>
        value.flatMap((branch) => expand(branch).map((fork) => merge(current, fork))),
      );
      continue;
    }
    if (isObject(value)) {
      throw new InvalidSnsFilterPolicyError(
        "Filter policy scope MessageAttributes does not support nested filter policy",
      );
    }
    if (!Array.isArray(value))
      throw new InvalidSnsFilterPolicyError(`"${key}" must be an object or an array`);
    if (value.length === 0) throw new InvalidSnsFilterPolicyError("Empty arrays are not allowed");
    for (const entry of value) checkValue(entry);
    for (const alternative of alternatives) alternative.set(key, value);
  }
  return alternatives;
}

/** SNS's rule for reading `"$or"` as the operator rather than as an attribute name. */
function isOrOperator(value: unknown): value is Record<string, unknown>[] {
  return (
    Array.isArray(value) &&
    value.length >= 2 &&
    value.every(isObject) &&
    value.every((branch) => Object.keys(branch).every((name) => !SNS_OPERATORS.has(name)))
  );
}

function merge(a: Map<string, unknown[]>, b: Map<string, unknown[]>): Map<string, unknown[]> {
  return new Map([...a, ...b]);
}

/** Operators EventBridge knows but SNS does not accept. */
function checkValue(entry: unknown): void {
  if (!isObject(entry)) return;
  const [operator, ...more] = Object.keys(entry);
  if (operator === undefined || more.length > 0) return; // the shared compiler words these errors
  if (!SNS_OPERATORS.has(operator))
    throw new InvalidSnsFilterPolicyError(`Unrecognized match type ${operator}`);
  const operand = entry[operator];
  if (operator === "anything-but" && isObject(operand)) {
    const inner = Object.keys(operand)[0];
    if (inner !== "prefix")
      throw new InvalidSnsFilterPolicyError(`Unsupported anything-but pattern: ${inner}`);
  }
  if ((operator === "prefix" || operator === "suffix") && typeof operand !== "string") {
    throw new InvalidSnsFilterPolicyError(`${operator} match pattern must be a string`);
  }
}

/**
 * The attributes as the event the EventBridge matcher walks: one field per attribute, a String
 * as a string, a Number as a number, an array type as its elements. Binary attributes are left out.
 */
export function attributesAsEvent(
  attributes: Readonly<Record<string, SnsAttributeValue>>,
): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    const { type, value } = normalise(attribute);
    if (type.startsWith("Binary")) continue;
    if (type.startsWith("Number") && !type.endsWith(".Array")) {
      const number = Number(value);
      if (value.trim() !== "" && Number.isFinite(number)) event[name] = number;
      continue;
    }
    if (type.endsWith(".Array")) {
      const elements = parseArray(value);
      if (elements) event[name] = elements;
      continue;
    }
    event[name] = value;
  }
  return event;
}

function normalise(attribute: SnsAttributeValue): { type: string; value: string } {
  if ("dataType" in attribute) return { type: attribute.dataType, value: attribute.value };
  if ("Type" in attribute) return { type: attribute.Type, value: attribute.Value };
  return { type: attribute.DataType, value: attribute.StringValue ?? "" };
}

/** An array attribute's elements that can match: strings, numbers, booleans and null. */
function parseArray(value: string): unknown[] | undefined {
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!Array.isArray(parsed)) return undefined;
    return parsed.filter(
      (element) => element === null || ["string", "number", "boolean"].includes(typeof element),
    );
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidSnsFilterPolicyError(`Filter policy is not valid JSON: ${(error as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
