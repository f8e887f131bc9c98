/**
 * Slack settings, read once per cold start and validated up front like the rest of the runtime
 * config. Secrets (webhook URL, bot token, signing secret) come from SST secrets through a reader;
 * problems name the setting, never its value, and the config object never logs its secrets.
 *
 * Environment (not secret; set at deploy time, see infra/slack.ts and the README):
 *   GANTRY_SLACK_CHANNELS   `deploys,oncall=failure`: home channel first, then watchers (`=level`)
 *   GANTRY_SLACK_APPROVERS  Slack user ids allowed to press the buttons, comma-separated
 *   GANTRY_SLACK_TEAM_ID    optional: only requests from this workspace are accepted
 *   GANTRY_SLACK_API_URL    optional Web API base (the sandbox's Slack stand-in)
 *   GANTRY_SLACK_WORKER_FUNCTION  the function button presses are handed to (set by infra/slack.ts)
 */
import { parseSlackChannels, type SlackRouting, SlackRoutingError } from "@gantry/core";
import type { Env } from "./runtime-config.ts";

export type SlackSecretName = "SlackWebhookUrl" | "SlackBotToken" | "SlackSigningSecret";
export type SecretReader = (name: SlackSecretName) => string | undefined;

export type SlackTransportConfig =
  | { kind: "bot"; token: string; apiUrl: string }
  | { kind: "webhook"; url: string };

export interface SlackRuntimeConfig {
  /** Unset when neither a bot token nor a webhook URL is: Slack is off, notifications are skipped. */
  transport?: SlackTransportConfig;
  /** Unset: every interactivity request is refused. */
  signingSecret?: string;
  routing: SlackRouting;
  /** Slack user ids (`U…`, `W…`) whose button presses Gantry applies. */
  approvers: ReadonlySet<string>;
  teamId?: string;
  /** Where `response_url`s may point: Slack's hooks host, plus the stand-in's in the sandbox. */
  responseOrigins: readonly string[];
  /** The Lambda function (name or ARN) that applies button presses after they are acknowledged. */
  workerFunction?: string;
}

export class SlackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Slack configuration: ${problems.join("; ")}`);
    this.name = "SlackConfigError";
  }
}

export const SLACK_API_URL = "https://slack.com/api";
const SLACK_RESPONSE_ORIGIN = "https://hooks.slack.com";
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const TEAM_ID = /^T[A-Z0-9]{2,20}$/;
const BOT_TOKEN = /^xox[bp]-[A-Za-z0-9-]+$/;
const FUNCTION_NAME = /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}$/;

export function parseSlackConfig(env: Env, readSecret: SecretReader): SlackRuntimeConfig {
  const problems: string[] = [];
  const secret = (name: SlackSecretName) => {
    const value = readSecret(name)?.trim();
    return value ? value : undefined;
  };
  const token = secret("SlackBotToken");
  const webhook = secret("SlackWebhookUrl");
  const signingSecret = secret("SlackSigningSecret");
  const apiUrl = blank(env.GANTRY_SLACK_API_URL) ?? SLACK_API_URL;

  let transport: SlackTransportConfig | undefined;
  if (token) {
    if (!BOT_TOKEN.test(token)) problems.push("SlackBotToken must be a bot token (xoxb-…)");
    transport = { kind: "bot", token, apiUrl };
  } else if (webhook) {
    if (!isHttpUrl(webhook))
      problems.push("SlackWebhookUrl must be an https URL (https://hooks.slack.com/services/…)");
    transport = { kind: "webhook", url: webhook };
  }
  if (!isHttpUrl(apiUrl)) problems.push("GANTRY_SLACK_API_URL must be an https URL (http only on loopback)");

  let routing: SlackRouting = { home: { channel: "webhook", minLevel: "info" }, watchers: [] };
  const channels = blank(env.GANTRY_SLACK_CHANNELS);
  if (channels) {
    try {
      routing = parseSlackChannels(channels);
    } catch (error) {
      if (!(error instanceof SlackRoutingError)) throw error;
      problems.push(`GANTRY_SLACK_CHANNELS: ${error.message}`);
    }
  } else if (transport?.kind === "bot") {
    problems.push("GANTRY_SLACK_CHANNELS is required with a bot token (e.g. deploys,oncall=failure)");
  }

  const approvers = list(env.GANTRY_SLACK_APPROVERS);
  const badApprovers = approvers.filter((id) => !USER_ID.test(id));
  if (badApprovers.length > 0) {
    problems.push(`GANTRY_SLACK_APPROVERS must list Slack user ids (U…/W…), ${badApprovers.length} do not`);
  }
  const teamId = blank(env.GANTRY_SLACK_TEAM_ID);
  if (teamId && !TEAM_ID.test(teamId)) problems.push("GANTRY_SLACK_TEAM_ID must be a Slack team id (T…)");
  const workerFunction = blank(env.GANTRY_SLACK_WORKER_FUNCTION);
  if (workerFunction && !FUNCTION_NAME.test(workerFunction)) {
    problems.push("GANTRY_SLACK_WORKER_FUNCTION must be a Lambda function name or ARN");
  }
  if (problems.length > 0) throw new SlackConfigError(problems);

  const responseOrigins = [SLACK_RESPONSE_ORIGIN];
  if (apiUrl !== SLACK_API_URL) responseOrigins.push(new URL(apiUrl).origin);
  return hideSecrets({
    ...(transport ? { transport } : {}),
    ...(signingSecret ? { signingSecret } : {}),
    routing,
    approvers: new Set(approvers),
    ...(teamId ? { teamId } : {}),
    responseOrigins,
    ...(workerFunction ? { workerFunction } : {}),
  });
}

/** For the CLI against a stage: GANTRY_SLACK_BOT_TOKEN, GANTRY_SLACK_WEBHOOK_URL, GANTRY_SLACK_SIGNING_SECRET. */
export function envSecretReader(env: Env): SecretReader {
  const names: Record<SlackSecretName, string> = {
    SlackBotToken: "GANTRY_SLACK_BOT_TOKEN",
    SlackWebhookUrl: "GANTRY_SLACK_WEBHOOK_URL",
    SlackSigningSecret: "GANTRY_SLACK_SIGNING_SECRET",
  };
  return (name) => blank(env[names[name]]);
}

/** JSON.stringify / util.inspect of the config show `[REDACTED]` where a secret is. */
function hideSecrets(config: SlackRuntimeConfig): SlackRuntimeConfig {
  const redacted = () => ({
    ...config,
    ...(config.transport
      ? {
          transport:
            config.transport.kind === "bot"
              ? { ...config.transport, token: "[REDACTED]" }
              : { ...config.transport, url: "[REDACTED]" },
        }
      : {}),
    ...(config.signingSecret ? { signingSecret: "[REDACTED]" } : {}),
    approvers: [...config.approvers],
  });
  Object.defineProperty(config, "toJSON", { value: redacted, enumerable: false });
  Object.defineProperty(config, Symbol.for("nodejs.util.inspect.custom"), {
    value: redacted,
    enumerable: false,
  });
  return Object.freeze(config);
}

function blank(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** https, or plain http on loopback only (the sandbox's stand-in): a webhook URL is a bearer secret. */
function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      url.protocol === "https:" ||
      (url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))
    );
  } catch {
    return false;
  }
}
