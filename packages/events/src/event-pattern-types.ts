/** Shapes shared by the event-pattern compiler and matcher. */

/** A leaf of an event: what a pattern value list is tested against. */
export type JsonLeaf = string | number | boolean | null;

export type LeafTest = (value: JsonLeaf) => boolean;

export type JsonObject = { readonly [key: string]: unknown };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A wildcard operand, kept for AWS's rule-complexity limit; `negated` for `anything-but` wildcards. */
export interface WildcardOperand {
  readonly source: string;
  readonly negated: boolean;
}

/** What the value list of one pattern field (`"state": [ ... ]`) compiles to. */
export interface FieldMatcher {
  /** True when some entry of the list accepts this leaf value. */
  readonly test: LeafTest;
  /** The list holds `{"exists": false}`: the field being absent satisfies it. */
  readonly acceptsAbsence: boolean;
  readonly wildcards: readonly WildcardOperand[];
}

/** One field of a compiled pattern. `path` is the dotted name AWS keys fields by. */
export interface FieldCondition {
  readonly path: string;
  readonly segments: readonly string[];
  readonly matcher: FieldMatcher;
}

/** One way for a pattern to match (a pattern has several when it uses `$or`): every field must hold. */
export type Alternative = readonly FieldCondition[];
