/**
 * Errors raised when an incoming event cannot become a domain event. Both mean "drop it with a clear
 * log line and a metric, never retry" (DESIGN, Errors): the same bytes will fail the same way again.
 */

export interface ContractIssue {
  /** Path into the event, e.g. `detail.image-digest`, `resources[0]`; `(event)` for the whole input. */
  field: string;
  reason: string;
}

export interface EventContractErrorInit extends ContractIssue {
  source?: string;
  detailType?: string;
  /** Every issue found; the first one is the one named in the message. */
  issues?: readonly ContractIssue[];
}

/** The event does not have the shape Gantry's contract for its `source` + `detail-type` requires. */
export class EventContractError extends Error {
  readonly field: string;
  readonly reason: string;
  readonly source: string | undefined;
  readonly detailType: string | undefined;
  readonly issues: readonly ContractIssue[];

  constructor(init: EventContractErrorInit) {
    const label = init.detailType ?? init.source ?? "EventBridge event";
    const more = init.issues && init.issues.length > 1 ? ` (and ${init.issues.length - 1} more)` : "";
    super(`${label}: ${init.field}: ${init.reason}${more}`);
    this.name = "EventContractError";
    this.field = init.field;
    this.reason = init.reason;
    this.source = init.source;
    this.detailType = init.detailType;
    this.issues = init.issues ?? [{ field: init.field, reason: init.reason }];
  }
}

/**
 * A well-formed AWS event that Gantry deliberately does not act on, e.g. an `ECR Image Action` that is
 * a DELETE or not a SUCCESS. The `ecr-image-push` rule only routes PUSH/SUCCESS, so reaching a mapper
 * with one means the event was misrouted (or replayed by hand). It is a subclass so that every
 * "drop, don't retry" path handles it unchanged, while a handler can log it at a lower level.
 */
export class IgnoredEventError extends EventContractError {
  constructor(init: EventContractErrorInit) {
    super(init);
    this.name = "IgnoredEventError";
  }
}

/** A value as it may appear in an error message: JSON where possible, never throwing (e.g. on a bigint). */
export function formatValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // bigint, cycles; an object without a prototype cannot even be String()-ed.
    return typeof value === "object" ? Object.prototype.toString.call(value) : String(value);
  }
}
