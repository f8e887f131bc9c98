import { describe, expect, it } from "vitest";
import { parseSlackChannels, routeNotification, SlackRoutingError, slackFilterPolicy } from "../src/index.ts";

describe("parseSlackChannels", () => {
  it.each([
    ["deploys", { home: { channel: "deploys", minLevel: "info" }, watchers: [] }],
    [
      "#deploys=warning, oncall=failure",
      {
        home: { channel: "deploys", minLevel: "warning" },
        watchers: [{ channel: "oncall", minLevel: "failure" }],
      },
    ],
    // A watcher without its own level takes the home channel's.
    [
      "deploys=warning,C0123ABCD",
      {
        home: { channel: "deploys", minLevel: "warning" },
        watchers: [{ channel: "C0123ABCD", minLevel: "warning" }],
      },
    ],
  ])("%s", (spec, routing) => {
    expect(parseSlackChannels(spec)).toEqual(routing);
  });

  it.each([
    ["", /at least one channel/],
    ["deploys=loud", /level must be one of info, warning, failure/],
    ["dep loys", /not a channel name/],
    ["deploys,deploys=failure", /named twice/],
    ["a=b=c", /not a channel name/],
  ])("refuses %j", (spec, message) => {
    expect(() => parseSlackChannels(spec)).toThrow(SlackRoutingError);
    expect(() => parseSlackChannels(spec)).toThrow(message);
  });
});

describe("routeNotification", () => {
  const routing = parseSlackChannels("deploys,oncall=failure,security=warning");

  it.each([
    { level: "info", tag: undefined, channels: ["deploys"] },
    { level: "warning", tag: undefined, channels: ["deploys", "security"] },
    { level: "failure", tag: undefined, channels: ["deploys", "oncall", "security"] },
    // The service's own channel replaces home; watchers still get what reaches their threshold.
    { level: "info", tag: "team-payments", channels: ["team-payments"] },
    { level: "failure", tag: "team-payments", channels: ["team-payments", "oncall", "security"] },
    // A tag can carry its own threshold.
    { level: "info", tag: "team-payments=warning", channels: [] },
    { level: "warning", tag: "team-payments=warning", channels: ["team-payments", "security"] },
    // Naming a configured channel inherits its threshold; the channel never appears twice.
    { level: "warning", tag: "oncall", channels: ["security"] },
    { level: "failure", tag: "#oncall", channels: ["oncall", "security"] },
    // A malformed tag loses nothing: home.
    { level: "info", tag: "not a channel!", channels: ["deploys"] },
    { level: "info", tag: "  ", channels: ["deploys"] },
  ] as const)("$level with tag $tag → $channels", ({ level, tag, channels }) => {
    expect(routeNotification(routing, { level }, tag)).toEqual(channels);
  });
});

describe("slackFilterPolicy", () => {
  it("lets through only the levels some channel takes, and only the named services", () => {
    expect(slackFilterPolicy(parseSlackChannels("deploys"))).toEqual({
      level: ["info", "warning", "failure"],
    });
    expect(
      slackFilterPolicy(parseSlackChannels("deploys=warning,oncall=failure"), ["payments", "storefront"]),
    ).toEqual({
      level: ["warning", "failure"],
      service: ["payments", "storefront"],
    });
  });
});
