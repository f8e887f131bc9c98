import type { Effect } from "../effects.ts";
import type { GantryDeps } from "../ports.ts";

/**
 * Runs one service's reconciliation at a time and keeps going past failures. A failure nobody can
 * wait out (permissions, a bad spec, a bug) becomes an `error` effect for that service; transient
 * ones (throttling, 5xx) are counted into one warning, as the next run tries them again.
 */
export class Isolation {
  readonly #effects: Effect[] = [];
  readonly #transient = new Map<string, string>();

  constructor(private readonly deps: GantryDeps) {}

  async run(
    service: { serviceName: string; serviceArn: string },
    work: () => Promise<Effect[]>,
  ): Promise<void> {
    try {
      this.#effects.push(...(await work()));
    } catch (error) {
      const reason = describeError(error);
      if (this.deps.isTransient(error)) {
        this.#transient.set(service.serviceName, reason);
        return;
      }
      this.#effects.push({
        type: "error",
        level: "failure",
        service: service.serviceName,
        serviceArn: service.serviceArn,
        reasons: [reason],
        message: "the reconciler could not check this service; the rest of the fleet was reconciled",
      });
    }
  }

  effects(): Effect[] {
    if (this.#transient.size === 0) return this.#effects;
    const names = [...this.#transient.keys()];
    return [
      ...this.#effects,
      {
        type: "error",
        level: "warning",
        reasons: [...new Set(this.#transient.values())].slice(0, 5),
        message: `${names.length} service(s) skipped on a transient error, tried again on the next run: ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", …" : ""}`,
      },
    ];
  }
}

function describeError(error: unknown): string {
  const name = (error as Error)?.name ?? "Error";
  const message = (error as Error)?.message ?? String(error);
  return `${name}: ${message}`.slice(0, 500);
}
