/**
 * An EventBridge-compatible event-pattern matcher: the same patterns the real rules use, validated and
 * matched the way EventBridge does it (aws/event-ruler semantics, checked against a corpus of cases
 * AWS itself answered; see test/fixtures/eventbridge-patterns). Validate once with
 * `compileEventPattern`, then call `matches` for every event: matching does no parsing and no
 * validation.
 *
 * Supported: exact values (string, number, boolean, null), `prefix`, `suffix` (both also with
 * `equals-ignore-case`), `equals-ignore-case`, `wildcard`, `anything-but` (values, `prefix`, `suffix`,
 * `equals-ignore-case`, `wildcard`), `numeric`, `cidr` (IPv4 and IPv6), `exists`, `$or`, and Ruler's
 * `exactly`.
 */

import { compileAlternatives } from "./event-pattern-compile.ts";
import { invalidPattern } from "./event-pattern-error.ts";
import { matchesAlternatives } from "./event-pattern-match.ts";

export { InvalidEventPatternError } from "./event-pattern-error.ts";

export interface CompiledEventPattern {
  /** Whether the event (a parsed JSON value) matches. Never throws; a non-object event has no fields. */
  matches(event: unknown): boolean;
}

function parsePatternText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return invalidPattern(`Filter is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Validates an event pattern and prepares it for matching. `pattern` is the parsed JSON object or its
 * JSON text, as `TestEventPattern` takes it (from text, a duplicated key keeps its last value, which is
 * what AWS does). Throws InvalidEventPatternError with AWS's reason when EventBridge would reject it.
 */
export function compileEventPattern(pattern: unknown): CompiledEventPattern {
  const alternatives = compileAlternatives(typeof pattern === "string" ? parsePatternText(pattern) : pattern);
  return Object.freeze({ matches: (event: unknown) => matchesAlternatives(alternatives, event) });
}

/** One-off convenience; compile once with `compileEventPattern` when matching many events. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern).matches(event);
}
