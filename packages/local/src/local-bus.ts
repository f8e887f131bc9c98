import { compileEventPattern, type EventBridgeEvent, type GantryRule, type RuleTarget } from "@gantry/events";
import { invokeAsync } from "./lambda-async-invoke.ts";
import type { TimerClock } from "./virtual-clock.ts";

export type BusTarget = (event: EventBridgeEvent) => Promise<unknown>;

export interface Delivery {
  rule: string;
  target: RuleTarget;
  event: EventBridgeEvent;
  attempt: number;
  outcome: "ok" | "error" | "dead-letter";
  error?: string;
}

/**
 * The sandbox's EventBridge default bus: the same rules (patterns as data) and the same matcher as
 * production, delivering to the real handlers asynchronously on the sandbox clock, with Lambda's
 * async retry behaviour and a dead-letter list for events that still fail.
 */
export class LocalBus {
  readonly deliveries: Delivery[] = [];
  readonly deadLetters: Delivery[] = [];
  readonly #rules;

  constructor(
    rules: readonly GantryRule[],
    private readonly targets: Record<RuleTarget, BusTarget>,
    private readonly clock: TimerClock,
  ) {
    this.#rules = rules.map((rule) => ({ rule, pattern: compileEventPattern(rule.pattern) }));
  }

  /** PutEvents: returns the rules the event matched; delivery happens on the clock. */
  publish(event: EventBridgeEvent): string[] {
    const matched = this.#rules.filter(({ pattern }) => pattern.matches(event));
    for (const { rule } of matched) this.#deliver(rule, event);
    return matched.map(({ rule }) => rule.name);
  }

  #deliver(rule: GantryRule, event: EventBridgeEvent): void {
    const delivery = { rule: rule.name, target: rule.target, event };
    invokeAsync(this.clock, 0, {
      label: (attempt) => `deliver ${rule.name} → ${rule.target} (attempt ${attempt})`,
      invoke: () => this.targets[rule.target](event),
      attempted: (attempt, error) =>
        this.deliveries.push(
          error === undefined
            ? { ...delivery, attempt, outcome: "ok" }
            : { ...delivery, attempt, outcome: "error", error },
        ),
      deadLetter: (attempt, error) =>
        this.deadLetters.push({ ...delivery, attempt, outcome: "dead-letter", error }),
    });
  }
}
