import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { envSecretReader, parseSlackConfig, SlackConfigError } from "../src/slack-config.ts";
import { sstSecretReader } from "../src/sst-secrets.ts";

const TOKEN = "xoxb-1111-2222-SECRETTOKENVALUE";
const WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/WEBHOOKSECRET";
const SIGNING = "signing-secret-value-123";
const secrets = (values: Record<string, string | undefined>) => (name: string) => values[name];

describe("parseSlackConfig", () => {
  it("a bot token: threads, routing, approvers", () => {
    const config = parseSlackConfig(
      { GANTRY_SLACK_CHANNELS: "deploys,oncall=failure", GANTRY_SLACK_APPROVERS: "U012AB3CD, W0456EF" },
      secrets({ SlackBotToken: TOKEN, SlackSigningSecret: SIGNING, SlackWebhookUrl: WEBHOOK }),
    );
    // The bot token wins over a webhook: only it can thread and edit.
    expect(config.transport).toEqual({ kind: "bot", token: TOKEN, apiUrl: "https://slack.com/api" });
    expect(config.signingSecret).toBe(SIGNING);
    expect(config.routing.watchers).toEqual([{ channel: "oncall", minLevel: "failure" }]);
    expect([...config.approvers]).toEqual(["U012AB3CD", "W0456EF"]);
    expect(config.responseOrigins).toEqual(["https://hooks.slack.com"]);
  });

  it("a webhook alone, no channels needed; nothing at all means Slack is off", () => {
    expect(parseSlackConfig({}, secrets({ SlackWebhookUrl: WEBHOOK })).transport).toEqual({
      kind: "webhook",
      url: WEBHOOK,
    });
    const off = parseSlackConfig({}, secrets({ SlackBotToken: "", SlackWebhookUrl: "  " }));
    expect(off.transport).toBeUndefined();
    expect(off.signingSecret).toBeUndefined();
  });

  it("names every problem, never a secret's value", () => {
    let error: SlackConfigError | undefined;
    try {
      parseSlackConfig(
        {
          GANTRY_SLACK_APPROVERS: "alice,U0123",
          GANTRY_SLACK_TEAM_ID: "nope",
          GANTRY_SLACK_API_URL: "http://example.com/api",
        },
        secrets({ SlackBotToken: "not-a-token-SECRETISH" }),
      );
    } catch (caught) {
      error = caught as SlackConfigError;
    }
    expect(error).toBeInstanceOf(SlackConfigError);
    expect(error?.problems).toEqual([
      "SlackBotToken must be a bot token (xoxb-…)",
      "GANTRY_SLACK_API_URL must be an https URL (http only on loopback)",
      "GANTRY_SLACK_CHANNELS is required with a bot token (e.g. deploys,oncall=failure)",
      "GANTRY_SLACK_APPROVERS must list Slack user ids (U…/W…), 1 do not",
      "GANTRY_SLACK_TEAM_ID must be a Slack team id (T…)",
    ]);
    expect(error?.message).not.toContain("SECRETISH");
    expect(error?.message).not.toContain("alice");
    expect(() => parseSlackConfig({}, secrets({ SlackWebhookUrl: "http://hooks.slack.com/x" }))).toThrow(
      /SlackWebhookUrl must be an https URL/,
    );
    expect(() => parseSlackConfig({ GANTRY_SLACK_CHANNELS: "a b" }, secrets({}))).toThrow(
      /GANTRY_SLACK_CHANNELS: "a b"/,
    );
  });

  it("the stand-in on loopback may use http, and its origin may receive interaction responses", () => {
    const config = parseSlackConfig(
      { GANTRY_SLACK_CHANNELS: "deploys", GANTRY_SLACK_API_URL: "http://127.0.0.1:4567/api" },
      secrets({ SlackBotToken: TOKEN }),
    );
    expect(config.responseOrigins).toEqual(["https://hooks.slack.com", "http://127.0.0.1:4567"]);
  });

  it("serialises and inspects without its secrets", () => {
    const config = parseSlackConfig(
      { GANTRY_SLACK_CHANNELS: "deploys" },
      secrets({ SlackBotToken: TOKEN, SlackSigningSecret: SIGNING }),
    );
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 5 })]) {
      expect(shown).not.toContain(TOKEN);
      expect(shown).not.toContain(SIGNING);
      expect(shown).toContain("[REDACTED]");
    }
    const webhook = parseSlackConfig({}, secrets({ SlackWebhookUrl: WEBHOOK }));
    expect(JSON.stringify(webhook)).not.toContain("WEBHOOKSECRET");
  });
});

describe("secret readers", () => {
  it("SST's Resource: linked secrets by name; unlinked or empty reads as unset, never throws", () => {
    const resource = new Proxy(
      { SlackBotToken: { value: TOKEN }, SlackWebhookUrl: { value: "" } } as Record<string, unknown>,
      {
        get(target, name) {
          if (typeof name === "string" && name in target) return target[name];
          throw new Error(`"${String(name)}" is not linked`);
        },
      },
    );
    const read = sstSecretReader(resource);
    expect(read("SlackBotToken")).toBe(TOKEN);
    expect(read("SlackWebhookUrl")).toBeUndefined();
    expect(read("SlackSigningSecret")).toBeUndefined();
  });

  it("the environment, for the CLI against a stage", () => {
    const read = envSecretReader({ GANTRY_SLACK_BOT_TOKEN: TOKEN, GANTRY_SLACK_SIGNING_SECRET: " " });
    expect(read("SlackBotToken")).toBe(TOKEN);
    expect(read("SlackSigningSecret")).toBeUndefined();
  });
});
