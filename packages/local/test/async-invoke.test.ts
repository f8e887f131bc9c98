import type { RetryJob } from "@gantry/core";
import { gantryRules } from "@gantry/events";
import { describe, expect, it } from "vitest";
import { LocalBus } from "../src/local-bus.ts";
import { LocalScheduler } from "../src/local-scheduler.ts";
import { VirtualClock } from "../src/virtual-clock.ts";

const START = new Date("2026-01-01T00:00:00Z");
const JOB: RetryJob = {
  kind: "redeploy",
  serviceArn: "arn:aws:apprunner:us-east-1:111122223333:service/web/0123456789abcdef0123456789abcdef",
  digest: `sha256:${"a".repeat(64)}`,
  attempt: 2,
};

/** Seconds after START at which each invocation ran. */
function secondsSinceStart(clock: VirtualClock, log: number[]) {
  return () => log.push((clock.now().getTime() - START.getTime()) / 1000);
}

describe("LocalScheduler: EventBridge Scheduler invoking the retry function asynchronously", () => {
  it("runs the job at its time, once, and ignores scheduling the same attempt again", async () => {
    const clock = new VirtualClock(START);
    const scheduler = new LocalScheduler(clock);
    const runs: number[] = [];
    scheduler.target(async () => secondsSinceStart(clock, runs)());
    await scheduler.scheduleRetry(JOB, new Date(START.getTime() + 90_000));
    await scheduler.scheduleRetry(JOB, new Date(START.getTime() + 90_000));
    await clock.runUntilIdle();
    expect(runs).toEqual([90]);
    expect(scheduler.deadLetters).toEqual([]);
  });

  it("a failing job is retried after 1 and 2 minutes, then dead-lettered; the clock never rejects", async () => {
    const clock = new VirtualClock(START);
    const scheduler = new LocalScheduler(clock);
    const runs: number[] = [];
    scheduler.target(async () => {
      secondsSinceStart(clock, runs)();
      throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    });
    await scheduler.scheduleRetry(JOB, new Date(START.getTime() + 30_000));
    await expect(clock.advance(10 * 60_000)).resolves.toBeUndefined();
    expect(runs).toEqual([30, 90, 210]);
    expect(scheduler.deadLetters).toEqual([
      { job: JOB, attempts: 3, error: "ThrottlingException: Rate exceeded" },
    ]);
  });

  it("a job that fails once and then succeeds is not dead-lettered", async () => {
    const clock = new VirtualClock(START);
    const scheduler = new LocalScheduler(clock);
    let calls = 0;
    scheduler.target(async () => {
      calls++;
      if (calls === 1) throw new Error("flaky");
    });
    await scheduler.scheduleRetry(JOB, START);
    await clock.runUntilIdle();
    expect(calls).toBe(2);
    expect(scheduler.deadLetters).toEqual([]);
  });

  it("refuses to schedule before the retry function is wired, rather than losing the job", async () => {
    const scheduler = new LocalScheduler(new VirtualClock(START));
    await expect(scheduler.scheduleRetry(JOB, START)).rejects.toThrow(/no target/);
  });
});

describe("LocalBus: a rule's Lambda target is invoked asynchronously", () => {
  it("retries a failing target twice (1 and 2 minutes later), then dead-letters the event", async () => {
    const clock = new VirtualClock(START);
    const runs: number[] = [];
    const fail = async () => {
      secondsSinceStart(clock, runs)();
      throw new Error("boom");
    };
    const bus = new LocalBus(
      gantryRules.filter((rule) => rule.target === "image-push"),
      { "image-push": fail, "image-scan": fail, "apprunner-event": fail },
      clock,
    );
    const event = {
      version: "0",
      id: "e1",
      "detail-type": "ECR Image Action",
      source: "aws.ecr",
      account: "111122223333",
      time: START.toISOString(),
      region: "us-east-1",
      resources: [],
      detail: {
        "action-type": "PUSH",
        result: "SUCCESS",
        "repository-name": "web",
        "image-digest": JOB.digest,
      },
    };
    expect(bus.publish(event).length).toBeGreaterThan(0);
    await expect(clock.runUntilIdle()).resolves.toBeGreaterThan(0);
    expect(runs).toEqual([0, 60, 180]);
    expect(bus.deadLetters.map((letter) => [letter.attempt, letter.error])).toEqual([[3, "Error: boom"]]);
  });
});
