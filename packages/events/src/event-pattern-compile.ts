/**
 * Turns an event pattern into the flat form EventBridge compiles it to: a list of alternatives, each
 * a set of fields keyed by their dotted path (`detail.state`). This mirrors aws/event-ruler's
 * JsonRuleCompiler, including two behaviours a tree-shaped evaluator would get wrong:
 *  - fields are keyed by the joined path, so `{"detail": {"state.status": [...]}}` and
 *    `{"detail": {"state": {"status": [...]}}}` are the same field, and a later write to a path
 *    replaces an earlier one (a duplicated key in the JSON text: the last one wins);
 *  - `$or` forks the alternatives built so far, so a field constrained both outside and inside a `$or`
 *    keeps the constraint written last in document order.
 */
import { EventPatternLimitError, InvalidEventPatternError, invalidPattern } from "./event-pattern-error.ts";
import { compileFieldMatcher } from "./event-pattern-operators.ts";
import {
  type Alternative,
  type FieldCondition,
  type FieldMatcher,
  isJsonObject,
  type JsonObject,
} from "./event-pattern-types.ts";
import { MAX_WILDCARD_COMPLEXITY, parseWildcard, wildcardComplexity } from "./event-pattern-wildcard.ts";

const OR = "$or";

/** Keys Ruler reserves for operators: inside a `$or` branch they would be ambiguous, so AWS rejects them. */
const RESERVED_IN_OR: ReadonlySet<string> = new Set([
  "exactly",
  "equals-ignore-case",
  "prefix",
  "suffix",
  "anything-but",
  "exists",
  "wildcard",
  "numeric",
  "cidr",
  "=",
  "<",
  "<=",
  ">",
  ">=",
  "regex",
  "not-wildcard",
  "not-equals-ignore-case",
  "date-after",
  "date-on-or-after",
  "date-before",
  "date-on-or-before",
  "in-date-range",
  "ip-address-in-range",
  "ip-address-not-in-range",
]);

// Our guards, not documented AWS rules: they bound compile time and recursion on hostile input.
const MAX_ALTERNATIVES = 1000;
const MAX_DEPTH = 100;

/** Fields by dotted path; a Map keeps insertion order and makes "last write wins" a plain `set`. */
type Fields = Map<string, FieldMatcher>;

interface Walk {
  readonly expandOr: boolean;
  /** The alternatives built so far; `$or` replaces them with their forks. */
  alternatives: Fields[];
}

function joinPath(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}

function writeField(walk: Walk, path: string, values: readonly unknown[]): void {
  const matcher = compileFieldMatcher(values);
  if (walk.alternatives.length === 0) walk.alternatives.push(new Map());
  for (const fields of walk.alternatives) fields.set(path, matcher);
}

function walkObject(walk: Walk, prefix: string, object: JsonObject, insideOr: boolean, depth: number): void {
  if (depth > MAX_DEPTH) {
    throw new EventPatternLimitError(`Event pattern is nested more than ${MAX_DEPTH} levels deep`);
  }
  const entries = Object.entries(object);
  if (entries.length === 0) invalidPattern("Empty objects are not allowed");
  for (const [key, value] of entries) {
    if (key === OR && walk.expandOr) {
      walkOr(walk, prefix, value, depth);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      invalidPattern(`${key} is Ruler reserved fieldName which cannot be used inside ${OR}.`);
    }
    const path = joinPath(prefix, key);
    if (isJsonObject(value)) walkObject(walk, path, value, insideOr, depth + 1);
    else if (Array.isArray(value)) writeField(walk, path, value);
    else invalidPattern(`"${key}" must be an object or an array`);
  }
}

function walkOr(walk: Walk, prefix: string, branches: unknown, depth: number): void {
  if (!Array.isArray(branches)) invalidPattern(`It must be an Array followed with ${OR}.`);
  const before = walk.alternatives;
  const after: Fields[] = [];
  for (const branch of branches) {
    if (!isJsonObject(branch)) invalidPattern(`Only JSON object is allowed in array of ${OR} relationship.`);
    const forked = before.length === 0 ? [new Map()] : before.map((fields) => new Map(fields));
    const branchWalk: Walk = { expandOr: walk.expandOr, alternatives: forked };
    walkObject(branchWalk, prefix, branch, true, depth + 1);
    after.push(...branchWalk.alternatives);
    if (after.length > MAX_ALTERNATIVES) {
      throw new EventPatternLimitError(
        `Event pattern expands to more than ${MAX_ALTERNATIVES} ${OR} combinations`,
      );
    }
  }
  if (branches.length < 2) invalidPattern(`There must have at least 2 Objects in ${OR} relationship.`);
  walk.alternatives = after;
}

function toAlternative(fields: Fields): Alternative {
  const conditions: FieldCondition[] = [...fields].map(([path, matcher]) => ({
    path,
    segments: path.split("."),
    matcher,
  }));
  // Ruler walks a rule's fields in sorted name order; exists:false depends on that order (see the matcher).
  return conditions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function compileWith(pattern: JsonObject, expandOr: boolean): Alternative[] {
  const walk: Walk = { expandOr, alternatives: [] };
  walkObject(walk, "", pattern, false, 0);
  return walk.alternatives.map(toAlternative);
}

/** Whether some object of the pattern (value lists aside) has a `$or` key. */
function mentionsOr(object: JsonObject, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  return Object.entries(object).some(
    ([key, child]) => key === OR || (isJsonObject(child) && mentionsOr(child, depth + 1)),
  );
}

/**
 * AWS rejects a rule whose wildcards on one field are too costly to match (see wildcardComplexity).
 * Operands on the same path are evaluated together across every `$or` alternative.
 */
function checkWildcardComplexity(alternatives: readonly Alternative[]): void {
  const byPath = new Map<string, Map<string, string>>();
  for (const condition of alternatives.flat()) {
    for (const operand of condition.matcher.wildcards) {
      const operands = byPath.get(condition.path) ?? new Map<string, string>();
      operands.set(`${operand.negated}:${operand.source}`, operand.source);
      byPath.set(condition.path, operands);
    }
  }
  for (const operands of byPath.values()) {
    const patterns = [...operands.values()].map(parseWildcard);
    if (wildcardComplexity(patterns) > MAX_WILDCARD_COMPLEXITY) {
      invalidPattern(
        "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character",
      );
    }
  }
}

/**
 * Validates `pattern` (already parsed JSON) and returns its alternatives. A `$or` that is not a valid
 * `$or` gets a second chance as an ordinary field name, as in EventBridge, which retries such rules
 * with its pre-`$or` compiler; if that fails too, the `$or` reading's error is the one reported.
 */
export function compileAlternatives(pattern: unknown): Alternative[] {
  if (!isJsonObject(pattern)) invalidPattern("Filter is not an object");
  let alternatives: Alternative[];
  try {
    alternatives = compileWith(pattern, true);
  } catch (error) {
    const retry = error instanceof InvalidEventPatternError && !(error instanceof EventPatternLimitError);
    if (!retry || !mentionsOr(pattern)) throw error;
    try {
      alternatives = compileWith(pattern, false);
    } catch {
      throw error;
    }
  }
  checkWildcardComplexity(alternatives);
  return alternatives;
}
