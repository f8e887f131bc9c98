/**
 * Matching a parsed event against compiled alternatives, with the semantics of aws/event-ruler's
 * `rulesForJSONEvent` (the array-consistent matcher EventBridge uses):
 *  - a field's values are the leaves (string, number, boolean, null) at its dotted path; arrays on the
 *    way are "crushed", so every element contributes, and an object or an empty array is no value;
 *  - a dotted key in the event is the same path as the nested keys (`{"a.b": 1}` is `a.b`);
 *  - values of two fields inside objects that are different elements of the same array never combine.
 */
import type { Alternative, FieldCondition, JsonLeaf } from "./event-pattern-types.ts";

/**
 * The array elements a leaf sits in: which element of which array, innermost first. A linked list, so
 * stepping into an array is O(1) however deep the nesting.
 */
interface Membership {
  readonly array: readonly unknown[];
  readonly index: number;
  readonly outer: Membership | undefined;
}

interface Leaf {
  readonly value: JsonLeaf;
  readonly membership: Membership | undefined;
}

function isLeafValue(value: unknown): value is JsonLeaf {
  return (
    value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean"
  );
}

interface Visit {
  readonly node: unknown;
  /** How many path segments are consumed. */
  readonly depth: number;
  readonly membership: Membership | undefined;
}

/** Keys that spell the next part of the path: "a", then "a.b" (a dotted key), and so on. */
function pushChildren(stack: Visit[], node: object, segments: readonly string[], visit: Visit): void {
  let key = "";
  for (let end = visit.depth; end < segments.length; end++) {
    key = end === visit.depth ? (segments[end] ?? "") : `${key}.${segments[end] ?? ""}`;
    if (Object.hasOwn(node, key)) {
      stack.push({
        node: (node as Record<string, unknown>)[key],
        depth: end + 1,
        membership: visit.membership,
      });
    }
  }
}

/** Every leaf at `segments` (an explicit stack: event arrays may nest deeper than the call stack allows). */
function collectLeaves(event: unknown, segments: readonly string[]): Leaf[] {
  const leaves: Leaf[] = [];
  const stack: Visit[] = [{ node: event, depth: 0, membership: undefined }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const { node, depth, membership } = visit;
    if (Array.isArray(node)) {
      for (let index = node.length - 1; index >= 0; index--) {
        stack.push({ node: node[index], depth, membership: { array: node, index, outer: membership } });
      }
    } else if (depth === segments.length) {
      if (isLeafValue(node)) leaves.push({ value: node, membership });
    } else if (typeof node === "object" && node !== null) {
      pushChildren(stack, node, segments, visit);
    }
  }
  return leaves;
}

/** The union of two memberships, or false when they disagree on an element of an array both are in. */
function combine(
  current: Membership | undefined,
  added: Membership | undefined,
): Membership | undefined | false {
  if (added === undefined) return current;
  if (current === undefined) return added;
  const chosen = new Map<readonly unknown[], number>();
  for (let step: Membership | undefined = current; step; step = step.outer) {
    chosen.set(step.array, step.index);
  }
  let combined = current;
  for (let step: Membership | undefined = added; step; step = step.outer) {
    const index = chosen.get(step.array);
    if (index === undefined) combined = { array: step.array, index: step.index, outer: combined };
    else if (index !== step.index) return false;
  }
  return combined;
}

type LeafSource = (condition: FieldCondition) => readonly Leaf[];

/**
 * Depth-first over the fields in sorted path order, as Ruler walks them. `{"exists": false}` holds
 * when no value of the field is consistent with the array elements chosen for the fields before it,
 * which is Ruler's rule too (so it can depend on the order of the field names).
 */
function matchFrom(
  alternative: Alternative,
  index: number,
  membership: Membership | undefined,
  leavesOf: LeafSource,
): boolean {
  const condition = alternative[index];
  if (condition === undefined) return true;
  let present = false;
  for (const leaf of leavesOf(condition)) {
    const combined = combine(membership, leaf.membership);
    if (combined === false) continue;
    present = true;
    if (condition.matcher.test(leaf.value) && matchFrom(alternative, index + 1, combined, leavesOf)) {
      return true;
    }
  }
  return (
    !present && condition.matcher.acceptsAbsence && matchFrom(alternative, index + 1, membership, leavesOf)
  );
}

/** Whether `event` satisfies any alternative. Leaves are looked up once per path per call. */
export function matchesAlternatives(alternatives: readonly Alternative[], event: unknown): boolean {
  const leavesByPath = new Map<string, Leaf[]>();
  const leavesOf: LeafSource = (condition) => {
    let leaves = leavesByPath.get(condition.path);
    if (leaves === undefined) {
      leaves = collectLeaves(event, condition.segments);
      leavesByPath.set(condition.path, leaves);
    }
    return leaves;
  };
  return alternatives.some((alternative) => matchFrom(alternative, 0, undefined, leavesOf));
}
