/**
 * Slack in the sandbox: the stand-in on loopback, the real `slack-notify` handler subscribed to
 * the local SNS topic behind the same filter policy as production, and the real
 * `slack-interactivity` handler that button presses are sent to, signed as Slack signs them. As in
 * Lambda, it acknowledges and hands each press to the real worker as an asynchronous invocation
 * (on the sandbox clock, with Lambda's retries), which applies it when the clock runs.
 */
import { type Effect, parseSlackChannels, slackFilterPolicy } from "@gantry/core";
import {
  type AppContext,
  buildSlackContext,
  createSlackHandlers,
  type FunctionUrlResponse,
  localLambdaContext,
  parseSlackConfig,
  type RuntimeConfig,
} from "@gantry/runtime";
import type { AppRunnerEmulator } from "./apprunner-emulator.ts";
import { localCredentials } from "./dynamodb-local.ts";
import { invokeAsync } from "./lambda-async-invoke.ts";
import { LocalSlack, type LocalSlackMessage } from "./local-slack.ts";
import type { LocalSns } from "./local-sns.ts";
import { LocalSnsLambdaSubscription } from "./sns-subscription.ts";
import type { VirtualClock } from "./virtual-clock.ts";

export interface SandboxSlackOptions {
  /** As GANTRY_SLACK_CHANNELS: home channel first, then watchers with `=level`. Default `deploys`. */
  channels?: string;
  /** Slack user ids allowed to press the buttons. Default: SANDBOX_APPROVER. */
  approvers?: string[];
  /** Default `bot` (threads, edited headlines); `webhook` posts standalone messages. */
  transport?: "bot" | "webhook";
  /** Limit the subscription to these services (its filter policy's `service` key). */
  services?: string[];
}

/** The sandbox's Slack user on the approver list. */
export const SANDBOX_APPROVER = { id: "U0APPROVER", name: "avery" } as const;

export interface SandboxSlackSettings {
  apiUrl: string;
  webhookUrl: string;
  botToken: string;
  signingSecret: string;
  channels: string;
  approvers: string[];
  transport: "bot" | "webhook";
}

/** A worker invocation whose retries were spent: what its on-failure destination would hold. */
export interface SlackWorkerDeadLetter {
  job: unknown;
  attempts: number;
  error: string;
}

export class SandboxSlack {
  /** Worker invocations that failed after Lambda's retries. */
  readonly workerDeadLetters: SlackWorkerDeadLetter[] = [];

  constructor(
    readonly standIn: LocalSlack,
    readonly subscription: LocalSnsLambdaSubscription,
    readonly settings: SandboxSlackSettings,
    private readonly interactivity: (event: unknown) => Promise<unknown>,
  ) {}

  /** Sends a request to the interactivity function URL, as Slack would (raw headers and body). */
  async interact(request: { headers: Record<string, string>; body: string }): Promise<FunctionUrlResponse> {
    return (await this.interactivity({
      version: "2.0",
      rawPath: "/",
      headers: request.headers,
      body: request.body,
      isBase64Encoded: false,
      requestContext: { http: { method: "POST", path: "/" }, requestId: crypto.randomUUID() },
    })) as FunctionUrlResponse;
  }

  /** A person presses a button of a message (the headline's `gantry.approve-once`, …). */
  press(input: {
    message: LocalSlackMessage;
    actionId: string;
    user?: { id: string; name: string };
  }): Promise<FunctionUrlResponse> {
    return this.interact(
      this.standIn.buttonPress({
        message: input.message,
        actionId: input.actionId,
        user: input.user ?? SANDBOX_APPROVER,
      }),
    );
  }

  /** The thread root (headline) of a release in a channel. */
  headline(channel: string, service: string): LocalSlackMessage | undefined {
    return this.standIn.roots(channel).find((root) => root.text.startsWith(`${service}:`));
  }

  render(): string {
    return this.standIn.render();
  }
}

export async function startSandboxSlack(input: {
  app: AppContext;
  runtime: RuntimeConfig;
  clock: VirtualClock;
  sns: LocalSns;
  appRunner: AppRunnerEmulator;
  options: SandboxSlackOptions;
  /** Each post or edit the stand-in receives, as a timeline effect of type `slack`. */
  record: (effect: Effect) => void;
}): Promise<{ slack: SandboxSlack; stop: () => Promise<void> }> {
  const { clock, options } = input;
  const standIn = new LocalSlack({
    clock,
    onActivity: (activity) =>
      input.record({
        type: "slack",
        channel: activity.channel,
        thread: activity.thread,
        action: activity.action,
        text: activity.text,
        message: `${activity.action} in #${activity.channel}${activity.ephemeral ? " (ephemeral)" : ""}: ${activity.text}`,
        ...(activity.ephemeral ? { ephemeral: true } : {}),
      }),
  });
  const { apiUrl, webhookUrl } = await standIn.start();
  const settings: SandboxSlackSettings = {
    apiUrl,
    webhookUrl,
    botToken: standIn.botToken,
    signingSecret: standIn.signingSecret,
    channels: options.channels ?? "deploys",
    approvers: options.approvers ?? [SANDBOX_APPROVER.id],
    transport: options.transport ?? "bot",
  };
  const config = parseSlackConfig(
    {
      GANTRY_SLACK_CHANNELS: settings.channels,
      GANTRY_SLACK_APPROVERS: settings.approvers.join(","),
      GANTRY_SLACK_API_URL: apiUrl,
    },
    (name) =>
      name === "SlackSigningSecret"
        ? settings.signingSecret
        : name === "SlackBotToken"
          ? settings.transport === "bot"
            ? settings.botToken
            : undefined
          : settings.transport === "webhook"
            ? webhookUrl
            : undefined,
  );
  const context = buildSlackContext(input.app, input.runtime, config, {
    credentials: localCredentials,
    // Serial deliveries on the virtual clock never wait on each other; nothing here may sleep for real.
    sleep: async () => undefined,
    http: { sleep: async () => undefined },
    // Read the emulator's tags directly: Slack's lookups must not show up in App Runner's call log.
    channelTagOf: async (serviceArn) =>
      input.appRunner.snapshot().services.find(({ service }) => service.ServiceArn === serviceArn)?.tags[
        "gantry:channel"
      ],
    // As Lambda's `Event` invocation: queued now, run when the clock gets to it, retried on failure.
    dispatch: async (job) =>
      invokeAsync(clock, 0, {
        label: (attempt) => `invoke slack-interactivity-worker (attempt ${attempt})`,
        invoke: () =>
          handlers.worker(job, localLambdaContext("gantry-sandbox-slack-interactivity-worker") as never),
        deadLetter: (attempts, error) => slack.workerDeadLetters.push({ job, attempts, error }),
      }),
  });
  const handlers = createSlackHandlers(() => context);
  const subscription = new LocalSnsLambdaSubscription(
    "gantry-sandbox-slack-notify",
    slackFilterPolicy(parseSlackChannels(settings.channels), options.services),
    (event) => handlers.notify(event, localLambdaContext("gantry-sandbox-slack-notify") as never),
    clock,
  );
  input.sns.subscribe((message) => subscription.deliver(message));
  const slack = new SandboxSlack(standIn, subscription, settings, (event) =>
    handlers.interactivity(event, localLambdaContext("gantry-sandbox-slack-interactivity") as never),
  );
  return { slack, stop: () => standIn.stop() };
}
