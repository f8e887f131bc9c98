/**
 * In Lambda, a service's `gantry:channel` tag is read with the App Runner SDK (DescribeService +
 * ListTagsForResource, both in the notify function's IAM). Here against the App Runner emulator.
 */
import { localCredentials, Sandbox } from "@gantry/local";
import { buildAppContext, buildSlackContext, parseSlackConfig } from "@gantry/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint"), slack: false });
});
afterAll(() => sandbox.stop());

describe("the gantry:channel tag, as the deployed function reads it", () => {
  it("reads the tag once per few minutes, and falls back to home when the service cannot be read", async () => {
    const tagged = sandbox.createService({
      name: "payments",
      image: "api:prod",
      tags: { "gantry:channel": "team-pay=warning" },
    });
    const untagged = sandbox.createService({ name: "storefront", image: "web:prod" });
    const app = buildAppContext(sandbox.runtime, sandbox.config, {
      clock: sandbox.clock,
      credentials: localCredentials,
    });
    const context = buildSlackContext(
      app,
      sandbox.runtime,
      parseSlackConfig({}, () => undefined),
      {
        credentials: localCredentials,
      },
    );
    const describes = () => sandbox.appRunner.calls.filter((call) => call.op === "DescribeService").length;

    expect(await context.channelTagOf(tagged)).toBe("team-pay=warning");
    expect(await context.channelTagOf(untagged)).toBeUndefined();
    const after = describes();
    expect(await context.channelTagOf(tagged)).toBe("team-pay=warning");
    expect(describes()).toBe(after);
    await sandbox.clock.advance(6 * 60_000);
    await context.channelTagOf(tagged);
    expect(describes()).toBe(after + 1);

    const gone = tagged.replace(/[0-9a-f]{32}$/, "f".repeat(32));
    expect(await context.channelTagOf(gone)).toBeUndefined();
  });
});
