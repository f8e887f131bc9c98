import { describe, expect, it } from "vitest";
import { VirtualClock } from "../src/virtual-clock.ts";

const T0 = new Date("2019-11-16T01:54:34Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe("VirtualClock.advanceTo (a replay follows its events' own times)", () => {
  it("moves forward to the given time, running every timer due on the way, in order", async () => {
    const clock = new VirtualClock(T0);
    const ran: string[] = [];
    clock.schedule(30_000, () => void ran.push(`a@${clock.now().toISOString()}`));
    clock.schedule(90_000, () => void ran.push(`b@${clock.now().toISOString()}`));
    clock.schedule(600_000, () => void ran.push("late"));

    const moved = await clock.advanceTo(at(120));

    expect(moved).toBe(true);
    expect(ran).toEqual([`a@${at(30).toISOString()}`, `b@${at(90).toISOString()}`]);
    expect(clock.now()).toEqual(at(120));
    expect(clock.pending().map((timer) => timer.dueAt)).toEqual([at(600)]);
  });

  it("never moves backwards: an earlier time leaves the clock and its timers where they are", async () => {
    const clock = new VirtualClock(at(600));
    let ran = 0;
    clock.schedule(1_000, () => void ran++);

    const moved = await clock.advanceTo(at(0));

    expect(moved).toBe(false);
    expect(clock.now()).toEqual(at(600));
    expect(ran).toBe(0);
    expect(clock.pending()).toHaveLength(1);
  });

  it("the same time runs what is due now and reports no move", async () => {
    const clock = new VirtualClock(T0);
    let ran = 0;
    clock.schedule(0, () => void ran++);
    expect(await clock.advanceTo(T0)).toBe(false);
    expect(ran).toBe(1);
    expect(clock.now()).toEqual(T0);
  });
});
