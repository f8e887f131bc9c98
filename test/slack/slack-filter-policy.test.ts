import { SnsNotifier } from "@gantry/aws";
import { parseSlackChannels, slackFilterPolicy } from "@gantry/core";
import { compileSnsFilterPolicy } from "@gantry/events";
import { describe, expect, it } from "vitest";

describe("the Slack subscription's filter policy routes by level and service", () => {
  /** The attributes SnsNotifier really sends, captured from its Publish input. */
  async function attributesOf(level: "info" | "warning" | "failure", service?: string) {
    let input: { MessageAttributes?: Record<string, { DataType: string; StringValue?: string }> } = {};
    const client = {
      send: async (command: { input: typeof input }) => {
        input = command.input;
      },
    };
    await new SnsNotifier(client as never, "arn:aws:sns:us-east-1:111122223333:t").publish({
      schemaVersion: 1,
      kind: "deploy",
      level,
      ...(service ? { service } : {}),
      reasons: [],
      message: "m",
      at: "2026-11-02T09:00:00.000Z",
    });
    return input.MessageAttributes ?? {};
  }

  it("levels below every channel's threshold never reach the subscriber", async () => {
    const policy = compileSnsFilterPolicy(
      slackFilterPolicy(parseSlackChannels("deploys=warning,oncall=failure")),
    );
    expect(policy.matches(await attributesOf("info", "payments"))).toBe(false);
    expect(policy.matches(await attributesOf("warning", "payments"))).toBe(true);
    expect(policy.matches(await attributesOf("failure", "payments"))).toBe(true);
  });

  it("a service list keeps other services (and service-less notices) out", async () => {
    const policy = compileSnsFilterPolicy(slackFilterPolicy(parseSlackChannels("deploys"), ["payments"]));
    expect(policy.matches(await attributesOf("info", "payments"))).toBe(true);
    expect(policy.matches(await attributesOf("failure", "storefront"))).toBe(false);
    expect(policy.matches(await attributesOf("failure"))).toBe(false);
  });
});
