import { API_OF_OPERATION, OPERATION_TYPES, type OperationType } from "./apprunner-service.ts";

/** Faults that change how an API call answers. */
export type ApiFaultOutcome = "throttle" | "error-5xx" | "latency" | "refuse";
/** Faults that change how an asynchronous operation ends or is reported. */
export type OperationFaultOutcome = "fail-rollback" | "fail" | "create-failed" | "no-event";
export type FaultOutcome = ApiFaultOutcome | OperationFaultOutcome;

export interface FaultSpec {
  /** Service name or ARN; every service when absent. */
  service?: string;
  /** An OperationType (`UPDATE_SERVICE`) or an API name (`UpdateService`, `DescribeService`). */
  op: string;
  outcome: FaultOutcome;
  /** How many matching calls or operations the fault hits before it is used up (default 1). */
  times?: number;
  /** `latency` only: how long the API waits, in real milliseconds, before answering. */
  delayMs?: number;
  /**
   * `fail-rollback` only: the operation's final status. AWS's enum has ROLLBACK_SUCCEEDED, while
   * AWS's own deploy action tests show FAILED with the service RUNNING (FACTS §0.4); both occur.
   */
  rollbackStatus?: "ROLLBACK_SUCCEEDED" | "FAILED";
}

/** A fault being used up: `remaining` counts down to zero. */
export interface ActiveFault extends Required<Pick<FaultSpec, "op" | "outcome">> {
  service?: string;
  remaining: number;
  delayMs: number;
  rollbackStatus: "ROLLBACK_SUCCEEDED" | "FAILED";
}

const API_OUTCOMES: readonly FaultOutcome[] = ["throttle", "error-5xx", "latency", "refuse"];
const ROLLBACK_TYPES: readonly OperationType[] = ["UPDATE_SERVICE", "START_DEPLOYMENT"];

/**
 * Injected faults, consumed in the order they were added: the first fault that matches a call
 * (API faults) or a starting operation (operation faults) is used and its count goes down.
 */
export class FaultQueue {
  #faults: ActiveFault[] = [];
  readonly #isApiName: (name: string) => boolean;

  constructor(isApiName: (name: string) => boolean) {
    this.#isApiName = isApiName;
  }

  add(spec: FaultSpec): void {
    this.#faults.push(this.#validate(spec));
  }

  clear(): void {
    this.#faults = [];
  }

  pending(): ActiveFault[] {
    return this.#faults.map((fault) => ({ ...fault }));
  }

  /** The API fault for a call of `api` on a service known by any of `identities`. */
  takeApiFault(api: string, identities: string[]): ActiveFault | undefined {
    return this.#take((fault) => isApiFault(fault) && apiNameOf(fault.op) === api, identities);
  }

  /** The operation fault for an operation of `type` starting on a service known by `identities`. */
  takeOperationFault(type: OperationType, identities: string[]): ActiveFault | undefined {
    return this.#take((fault) => !isApiFault(fault) && operationTypeOf(fault.op) === type, identities);
  }

  #take(matches: (fault: ActiveFault) => boolean, identities: string[]): ActiveFault | undefined {
    const fault = this.#faults.find(
      (candidate) =>
        matches(candidate) && (candidate.service === undefined || identities.includes(candidate.service)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.#faults = this.#faults.filter((candidate) => candidate !== fault);
    return { ...fault };
  }

  /** Refuses combinations that cannot happen, so a scenario does not silently test nothing. */
  #validate(spec: FaultSpec): ActiveFault {
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1)
      throw new Error(`injectFault: times must be a positive integer`);
    const type = operationTypeOf(spec.op);
    if (isApiFault(spec)) {
      if (!this.#isApiName(apiNameOf(spec.op)))
        throw new Error(`injectFault: unknown App Runner API ${spec.op}`);
    } else if (!type) {
      throw new Error(`injectFault: ${spec.outcome} needs an asynchronous operation, got ${spec.op}`);
    }
    if (spec.outcome === "fail-rollback" && !ROLLBACK_TYPES.includes(type as OperationType)) {
      throw new Error(
        `injectFault: fail-rollback applies to UPDATE_SERVICE or START_DEPLOYMENT, got ${spec.op}`,
      );
    }
    if (spec.outcome === "create-failed" && type !== "CREATE_SERVICE") {
      throw new Error(`injectFault: create-failed applies to CREATE_SERVICE, got ${spec.op}`);
    }
    const delayMs = spec.delayMs ?? 0;
    if (spec.outcome === "latency" && !(delayMs > 0))
      throw new Error("injectFault: latency needs delayMs > 0");
    return {
      op: spec.op,
      outcome: spec.outcome,
      ...(spec.service === undefined ? {} : { service: spec.service }),
      remaining: times,
      delayMs,
      rollbackStatus: spec.rollbackStatus ?? "ROLLBACK_SUCCEEDED",
    };
  }
}

function isApiFault(fault: Pick<FaultSpec, "outcome">): boolean {
  return API_OUTCOMES.includes(fault.outcome);
}

/** `UPDATE_SERVICE` → `UpdateService`; an API name stays as it is. */
export function apiNameOf(op: string): string {
  return (OPERATION_TYPES as readonly string[]).includes(op) ? API_OF_OPERATION[op as OperationType] : op;
}

/** `UpdateService` → `UPDATE_SERVICE`; undefined for calls that start no operation. */
export function operationTypeOf(op: string): OperationType | undefined {
  if ((OPERATION_TYPES as readonly string[]).includes(op)) return op as OperationType;
  return OPERATION_TYPES.find((type) => API_OF_OPERATION[type] === op);
}
