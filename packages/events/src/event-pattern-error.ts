/**
 * The one error an event pattern can raise. Its message has the shape EventBridge gives the
 * `InvalidEventPatternException` of `PutRule`/`TestEventPattern`, and `reason` carries AWS's
 * wording (the text of aws/event-ruler, which EventBridge reports verbatim) wherever it is known.
 */
export class InvalidEventPatternError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
    this.name = "InvalidEventPatternError";
    this.reason = reason;
  }
}

/**
 * A limit was hit rather than the grammar broken. Kept apart because retrying the pattern with `$or`
 * read as a plain field name (see event-pattern-compile.ts) cannot lift a limit.
 */
export class EventPatternLimitError extends InvalidEventPatternError {
  constructor(reason: string) {
    super(reason);
    this.name = "EventPatternLimitError";
  }
}

export function invalidPattern(reason: string): never {
  throw new InvalidEventPatternError(reason);
}
