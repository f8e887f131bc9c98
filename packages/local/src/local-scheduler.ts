import type { RetryJob, SchedulerPort } from "@gantry/core";
import type { TimerClock } from "./virtual-clock.ts";

/**
 * EventBridge Scheduler's one-time schedules, on the sandbox clock: at the due time the job is
 * handed to the retry function, as the real schedule's target would be. Named like the real
 * adapter's schedules, so scheduling the same attempt twice is a no-op there too.
 */
export class LocalScheduler implements SchedulerPort {
  readonly scheduled: { job: RetryJob; at: Date }[] = [];
  readonly #names = new Set<string>();
  #target: ((job: RetryJob) => Promise<unknown>) | undefined;

  constructor(private readonly clock: TimerClock) {}

  /** The retry function the schedules invoke. */
  target(invoke: (job: RetryJob) => Promise<unknown>): void {
    this.#target = invoke;
  }

  async scheduleRetry(job: RetryJob, at: Date): Promise<void> {
    const name = `${job.serviceArn}|${job.digest}|${job.attempt}`;
    if (this.#names.has(name)) return;
    this.#names.add(name);
    this.scheduled.push({ job, at });
    this.clock.schedule(
      at.getTime() - this.clock.now().getTime(),
      async () => {
        if (!this.#target) throw new Error("LocalScheduler has no target");
        await this.#target(job);
      },
      `retry ${job.digest.slice(0, 19)} attempt ${job.attempt}`,
    );
  }
}
