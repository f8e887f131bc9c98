import type { Clock } from "@gantry/core";

export type TimerCallback = () => void | Promise<void>;

export interface TimerHandle {
  readonly id: number;
  readonly dueAt: Date;
  readonly label: string;
}

/** A clock that can also run something later: the emulator's operations, retries, the reconciler. */
export interface TimerClock extends Clock {
  schedule(delayMs: number, callback: TimerCallback, label?: string): TimerHandle;
  cancel(handle: TimerHandle): void;
}

interface Timer extends TimerHandle {
  callback: TimerCallback;
}

/**
 * Virtual time for the sandbox: nothing moves until `advance`/`runUntilIdle` is called, so a
 * scenario with 30-minute timeouts replays in milliseconds and in the same order every time.
 * Timers due at the same instant run in the order they were scheduled.
 */
export class VirtualClock implements TimerClock {
  #now: number;
  #timers: Timer[] = [];
  #nextId = 1;

  constructor(start: Date = new Date("2026-01-01T00:00:00Z")) {
    this.#now = start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  schedule(delayMs: number, callback: TimerCallback, label = "timer"): TimerHandle {
    const timer: Timer = {
      id: this.#nextId++,
      dueAt: new Date(this.#now + Math.max(0, delayMs)),
      label,
      callback,
    };
    this.#timers.push(timer);
    return timer;
  }

  cancel(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle.id);
  }

  pending(): TimerHandle[] {
    return [...this.#timers].sort(byDueThenId);
  }

  /** Runs the earliest timer (moving time forward to it); false when none is due by `until`. */
  async step(until = Number.POSITIVE_INFINITY): Promise<boolean> {
    const next = this.#timers.sort(byDueThenId)[0];
    if (!next || next.dueAt.getTime() > until) return false;
    this.#timers.shift();
    this.#now = Math.max(this.#now, next.dueAt.getTime());
    await next.callback();
    return true;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    while (await this.step(until)) {
      // keep going: callbacks may schedule more timers inside the window
    }
    this.#now = Math.max(this.#now, until);
  }

  /**
   * Moves time forward to `time` (a replayed event's own `time`), running every timer due on the
   * way. Time never goes back: an earlier `time` only runs what is due now. True if time moved.
   */
  async advanceTo(time: Date): Promise<boolean> {
    const ms = time.getTime() - this.#now;
    if (Number.isNaN(ms)) throw new RangeError("advanceTo: invalid time");
    await this.advance(Math.max(0, ms));
    return ms > 0;
  }

  /**
   * Runs timers until none is left or the next one lies beyond `horizonMs` from now: how a replay
   * reaches quiescence. Returns how many timers ran.
   */
  async runUntilIdle(horizonMs = 24 * 60 * 60 * 1000): Promise<number> {
    const until = this.#now + horizonMs;
    let ran = 0;
    while (await this.step(until)) ran++;
    return ran;
  }
}

function byDueThenId(a: Timer, b: Timer): number {
  return a.dueAt.getTime() - b.dueAt.getTime() || a.id - b.id;
}

/** Real time, for the interactive demo and for Lambda-like runs. */
export class RealTimerClock implements TimerClock {
  #timeouts = new Map<number, NodeJS.Timeout>();
  #nextId = 1;

  now(): Date {
    return new Date();
  }

  schedule(delayMs: number, callback: TimerCallback, label = "timer"): TimerHandle {
    const id = this.#nextId++;
    const timeout = setTimeout(() => {
      this.#timeouts.delete(id);
      void callback();
    }, delayMs);
    this.#timeouts.set(id, timeout);
    return { id, dueAt: new Date(Date.now() + delayMs), label };
  }

  cancel(handle: TimerHandle): void {
    clearTimeout(this.#timeouts.get(handle.id));
    this.#timeouts.delete(handle.id);
  }
}
