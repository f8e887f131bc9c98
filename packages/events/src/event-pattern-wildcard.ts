/**
 * The `wildcard` operator: parsing with AWS's escapes and errors, matching, and AWS's "rule is too
 * complex" limit.
 */
import { invalidPattern } from "./event-pattern-error.ts";

const STAR = Symbol("wildcard");
type Token = string | typeof STAR;

export interface WildcardPattern {
  /** The literal runs between unescaped `*`s; one run means no wildcard at all. */
  readonly runs: readonly string[];
  /** Code points and stars, the input to the complexity evaluation. */
  readonly tokens: readonly Token[];
}

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint < 0x10000 ? 3 : 4;
}

/**
 * Parses a wildcard operand. `\*` is a literal star, `\\` a literal backslash, any other escape is an
 * error, and so is `**`. Positions in errors are AWS's: a byte offset into the operand's quoted UTF-8
 * form, so the first character is at 1.
 */
export function parseWildcard(text: string): WildcardPattern {
  const runs: string[] = [];
  const tokens: Token[] = [];
  let run = "";
  let position = 1;
  for (let index = 0; index < text.length; ) {
    const char = String.fromCodePoint(text.codePointAt(index) ?? 0);
    if (char === "*") {
      if (text[index + 1] === "*") invalidPattern(`Consecutive wildcard characters at pos ${position}`);
      runs.push(run);
      run = "";
      tokens.push(STAR);
      index += 1;
      position += 1;
      continue;
    }
    if (char === "\\") {
      const escaped = text[index + 1];
      // A trailing backslash would escape the closing quote AWS adds, hence "invalid" too.
      if (escaped !== "*" && escaped !== "\\") invalidPattern(`Invalid escape character at pos ${position}`);
      run += escaped;
      tokens.push(escaped);
      index += 2;
      position += 2;
      continue;
    }
    run += char;
    tokens.push(char);
    index += char.length;
    position += utf8Length(char.codePointAt(0) ?? 0);
  }
  runs.push(run);
  return { runs, tokens };
}

/**
 * With `*` the only wildcard, matching the middle runs leftmost-first is exact, so this is a linear
 * scan (no backtracking, unlike a regular expression built from the pattern).
 */
export function matchesWildcard(pattern: WildcardPattern, value: string): boolean {
  const { runs } = pattern;
  const first = runs[0] ?? "";
  if (runs.length === 1) return value === first;
  const last = runs[runs.length - 1] ?? "";
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
    return false;
  }
  const end = value.length - last.length;
  let position = first.length;
  for (let index = 1; index < runs.length - 1; index++) {
    const middle = runs[index] ?? "";
    const at = value.indexOf(middle, position);
    if (at < 0 || at + middle.length > end) return false;
    position = at + middle.length;
  }
  return true;
}

/**
 * AWS's limit, from aws/event-ruler's MachineComplexityEvaluator: the complexity of the wildcard
 * patterns on one field is the largest number of their prefixes (ending at a character or a `*`)
 * that a single input string can match at once, counted over the quoted form AWS stores. AWS rejects a
 * rule when that exceeds 10 for some field. The cap is not documented; 10 is consistent with every
 * known AWS answer: `*:*:*:*:*:event-bus/*` (complexity 11) is rejected, while `/Users/`, a star, then
 * `/dir` five times and `/doc.txt` (7) is accepted, as are three `*:stack/<name>/*` values on one field
 * (9) but not four (12).
 */
export const MAX_WILDCARD_COMPLEXITY = 10;

// A budget on distinct sets of live prefixes. Only long literal runs between several stars come near
// it, and those have a low complexity (many stars or repeats reach the cap long before), so the walk
// stops and reports the worst seen so far rather than rejecting a rule AWS would likely accept.
const MAX_EXPLORED_STATES = 100_000;

const OTHER_CHARACTER = Symbol("any other character");
type InputSymbol = string | typeof OTHER_CHARACTER;

interface Automaton {
  /** Token lists, each wrapped in the quotes AWS's byte machine sees. */
  readonly machines: readonly (readonly Token[])[];
  readonly stride: number;
}

/** Live prefixes are encoded as `machine * stride + length`; a set is kept sorted for its key. */
function closeOver(automaton: Automaton, codes: Set<number>): number[] {
  for (const code of [...codes]) {
    const machine = automaton.machines[Math.floor(code / automaton.stride)] ?? [];
    // A `*` can match nothing: having matched up to it means having matched it too.
    if (machine[code % automaton.stride] === STAR) codes.add(code + 1);
  }
  return [...codes].sort((a, b) => a - b);
}

function advance(automaton: Automaton, state: readonly number[], symbol: InputSymbol): number[] {
  const next = new Set<number>();
  for (const code of state) {
    const machine = automaton.machines[Math.floor(code / automaton.stride)] ?? [];
    const length = code % automaton.stride;
    if (length > 0 && machine[length - 1] === STAR) next.add(code);
    if (machine[length] !== STAR && machine[length] === symbol) next.add(code + 1);
  }
  return closeOver(automaton, next);
}

function liveNonEmptyPrefixes(automaton: Automaton, state: readonly number[]): number {
  return state.filter((code) => code % automaton.stride !== 0).length;
}

/** The characters that extend some live prefix, plus one for all the others (which all act alike). */
function distinctInputs(automaton: Automaton, state: readonly number[]): InputSymbol[] {
  const inputs = new Set<InputSymbol>([OTHER_CHARACTER]);
  for (const code of state) {
    const token = automaton.machines[Math.floor(code / automaton.stride)]?.[code % automaton.stride];
    if (token !== undefined && token !== STAR) inputs.add(token);
  }
  return [...inputs];
}

/**
 * The complexity of one field's wildcard patterns (see MAX_WILDCARD_COMPLEXITY), evaluated by walking
 * every set of live prefixes some input string can produce. Stops as soon as `cap` is reached and then
 * returns `cap`.
 */
export function wildcardComplexity(
  patterns: readonly WildcardPattern[],
  cap = MAX_WILDCARD_COMPLEXITY + 1,
): number {
  if (patterns.length === 0) return 0;
  const machines = patterns.map((pattern) => ['"', ...pattern.tokens, '"']);
  const automaton: Automaton = { machines, stride: Math.max(...machines.map((m) => m.length)) + 1 };
  const start = closeOver(automaton, new Set(machines.map((_, index) => index * automaton.stride)));
  const seen = new Set([start.join()]);
  const pending = [start];
  let worst = 0;
  for (
    let state = pending.pop();
    state !== undefined && seen.size <= MAX_EXPLORED_STATES;
    state = pending.pop()
  ) {
    for (const symbol of distinctInputs(automaton, state)) {
      const next = advance(automaton, state, symbol);
      worst = Math.max(worst, liveNonEmptyPrefixes(automaton, next));
      if (worst >= cap) return cap;
      const key = next.join();
      if (next.length > 0 && !seen.has(key)) {
        seen.add(key);
        pending.push(next);
      }
    }
  }
  return worst;
}
