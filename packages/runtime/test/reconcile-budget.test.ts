import { describe, expect, it } from "vitest";
import { reconcileBudget } from "../src/reconcile-budget.ts";

describe("reconcileBudget: what one reconciler run may spend, from the Lambda's remaining time", () => {
  it("allows the App Runner calls the rate fits in the run's time, less a margin to finish and publish", () => {
    let calls = 7;
    let remaining = 240_000;
    const budget = reconcileBudget({ calls: () => calls, maxRps: 5 }, () => remaining);

    // 240 s less a 10 % margin (24 s) at 5 calls/s.
    expect(budget.maxAppRunnerCalls).toBe(1_080);
    expect(budget.appRunnerCalls()).toBe(7);
    calls = 12;
    expect(budget.appRunnerCalls()).toBe(12);
    expect(budget.timeLeftMs?.()).toBe(216_000);
    remaining = 20_000;
    expect(budget.timeLeftMs?.()).toBeLessThanOrEqual(0);
  });

  it("keeps at least 15 s in hand on a short timeout", () => {
    const budget = reconcileBudget({ calls: () => 0, maxRps: 5 }, () => 60_000);
    expect(budget.maxAppRunnerCalls).toBe(225);
    expect(budget.timeLeftMs?.()).toBe(45_000);
  });

  it("allows nothing when the run starts with less than its margin", () => {
    const budget = reconcileBudget({ calls: () => 0, maxRps: 5 }, () => 10_000);
    expect(budget.maxAppRunnerCalls).toBe(0);
  });
});
