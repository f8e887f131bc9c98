/** Time comes from outside the core: Lambda uses the system clock, the sandbox a virtual one. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
