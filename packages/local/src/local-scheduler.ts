import type { RetryJob, SchedulerPort } from "@gantry/core";
import { invokeAsync } from "./lambda-async-invoke.ts";
import type { TimerClock } from "./virtual-clock.ts";

/** A retry job the retry function failed on after Lambda's own retries: the on-failure destination. */
export interface RetryDeadLetter {
  job: RetryJob;
  attempts: number;
  error: string;
}

/**
 * EventBridge Scheduler's one-time schedules, on the sandbox clock: at the due time the job is
 * handed to the retry function, as the real schedule's target would be. Named like the real
 * adapter's schedules, so scheduling the same attempt twice is a no-op there too.
 * Scheduler invokes the function asynchronously, so a function error is retried by Lambda (twice)
 * and then lands in the dead letters; it never stops the clock. The reconciler picks up a retry
 * that never ran (`reconcile.ts`).
 */
export class LocalScheduler implements SchedulerPort {
  readonly scheduled: { job: RetryJob; at: Date }[] = [];
  readonly deadLetters: RetryDeadLetter[] = [];
  readonly #names = new Set<string>();
  #target: ((job: RetryJob) => Promise<unknown>) | undefined;

  constructor(private readonly clock: TimerClock) {}

  /** The retry function the schedules invoke. */
  target(invoke: (job: RetryJob) => Promise<unknown>): void {
    this.#target = invoke;
  }

  async scheduleRetry(job: RetryJob, at: Date): Promise<void> {
    const target = this.#target;
    if (!target) throw new Error("LocalScheduler has no target: call target() before scheduling");
    const name = `${job.serviceArn}|${job.digest}|${job.attempt}`;
    if (this.#names.has(name)) return;
    this.#names.add(name);
    this.scheduled.push({ job, at });
    invokeAsync(this.clock, at.getTime() - this.clock.now().getTime(), {
      label: (attempt) =>
        `retry ${job.digest.slice(0, 19)} attempt ${job.attempt}${attempt > 1 ? ` (invocation ${attempt})` : ""}`,
      invoke: () => target(job),
      deadLetter: (attempts, error) => this.deadLetters.push({ job, attempts, error }),
    });
  }
}
