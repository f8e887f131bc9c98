/**
 * The two Slack functions, over one lazily built context:
 * - `slack-notify`: an SNS subscriber (behind its filter policy) that posts each domain notification
 *   to its release's thread. It runs apart from the deciding functions: a failing Slack never
 *   blocks or slows a deploy decision, it only delays a message (retries, then the dead letters).
 * - `slack-interactivity`: the Lambda function URL Slack sends button presses to. It verifies the
 *   request and checks the approver allowlist (cheap), hands the press to the worker as an
 *   asynchronous invocation and answers 200 at once: Slack wants the acknowledgement within 3
 *   seconds (https://docs.slack.dev/interactivity/handling-user-interaction,
 *   https://docs.slack.dev/tools/bolt-js/concepts/acknowledge), and a deploy waits on App Runner.
 * - `slack-interactivity-worker`: applies the press through the same use case as the CLI with the
 *   Slack user as the actor, publishes what happened, edits the thread's headline, and answers the
 *   presser (ephemeral, through `response_url`) when the action was refused.
 */
import { createHash, randomUUID } from "node:crypto";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDbSlackThreadStore,
  type SlackHttpOptions,
  SlackWebApiTransport,
  SlackWebhookTransport,
} from "@gantry/aws";
import {
  actionFromId,
  applySlackAction,
  currentHeadline,
  deliverToSlack,
  type Effect,
  type GantryConfigInput,
  type HeadlineAction,
  parseActionValue,
  parseGantryConfig,
  presentKind,
  refreshHeadlines,
  renderHeadline,
  renderNotice,
  renderReply,
  type SlackDelivery,
  type SlackNotification,
  type SlackPort,
  type SlackThreadStorePort,
  TAG_CHANNEL,
  toNotification,
} from "@gantry/core";
import { parseSnsNotificationEvent } from "@gantry/events";
import * as z from "zod";
import { type AppContext, buildAppContext } from "./composition-root.ts";
import { classifyError } from "./error-classifier.ts";
import { gantryHandler } from "./handler.ts";
import { lazyPort } from "./lazy-port.ts";
import { logger, metrics, redactText } from "./observability.ts";
import { loadRuntimeConfig, type RuntimeConfig } from "./runtime-config.ts";
import { parseSlackConfig, type SecretReader, type SlackRuntimeConfig } from "./slack-config.ts";
import { verifySlackRequest } from "./slack-request-verifier.ts";

export interface SlackContext {
  app: AppContext;
  config: SlackRuntimeConfig;
  /** Unset when Slack is not configured. */
  slack?: SlackPort;
  threads: SlackThreadStorePort;
  channelTagOf(serviceArn: string): Promise<string | undefined>;
  sleep(ms: number): Promise<void>;
  /** Hands an acknowledged press to the worker: queues it, never waits for it to run. */
  dispatch(job: SlackInteractionJob): Promise<void>;
}

export interface SlackBuildOptions {
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** fetch, sleep and jitter for the Slack transport (tests pass fakes). */
  http?: SlackHttpOptions;
  /** Waits while another delivery holds a thread. */
  sleep?: (ms: number) => Promise<void>;
  /** Where a service's `gantry:channel` tag is read; default DescribeService + ListTagsForResource. */
  channelTagOf?: (serviceArn: string) => Promise<string | undefined>;
  /** How presses reach the worker; default an asynchronous Lambda invocation of `workerFunction`. */
  dispatch?: (job: SlackInteractionJob) => Promise<void>;
}

/** Service tags change rarely; one lookup per service per few minutes is plenty. */
const TAG_CACHE_MS = 5 * 60_000;

export const SLACK_METRICS = {
  posted: "SlackMessagesPosted",
  duplicates: "SlackDuplicatesSkipped",
  notConfigured: "SlackNotConfigured",
  rejected: "SlackRequestsRejected",
  refused: "SlackActionsRefused",
  applied: "SlackActionsApplied",
  handOffFailed: "SlackHandOffFailures",
} as const;

/** The Slack side of the composition root. */
export function buildSlackContext(
  app: AppContext,
  runtime: RuntimeConfig,
  config: SlackRuntimeConfig,
  options: SlackBuildOptions = {},
): SlackContext {
  const clock = app.deps.clock;
  const dynamodb = new DynamoDBClient({
    region: runtime.region,
    ...(runtime.endpoints.dynamodb ? { endpoint: runtime.endpoints.dynamodb } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const http = { ...options.http, responseOrigins: config.responseOrigins };
  const slack = !config.transport
    ? undefined
    : config.transport.kind === "bot"
      ? new SlackWebApiTransport(config.transport.token, { ...http, apiUrl: config.transport.apiUrl })
      : new SlackWebhookTransport(config.transport.url, http);
  const tags = new Map<string, { until: number; tag: string | undefined }>();
  return {
    app,
    config,
    ...(slack ? { slack } : {}),
    threads: new DynamoDbSlackThreadStore(dynamodb, runtime.ledgerTable, clock),
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    dispatch: options.dispatch ?? workerDispatch(runtime, config, options.credentials),
    channelTagOf:
      options.channelTagOf ??
      (async (serviceArn) => {
        const now = clock.now().getTime();
        const cached = tags.get(serviceArn);
        if (cached && cached.until > now) return cached.tag;
        let tag: string | undefined;
        try {
          tag = (await app.deps.appRunner.describeService(serviceArn)).tags[TAG_CHANNEL];
        } catch (error) {
          // A deleted service or a missing permission must not lose the message: home channel.
          logger.warn("Slack routing: service tags not readable, using the home channel", {
            error: (error as Error).name,
          });
        }
        tags.set(serviceArn, { until: now + TAG_CACHE_MS, tag });
        return tag;
      }),
  };
}

/**
 * Presses go to the worker function as `Event` invocations. The client gives up quickly (Slack's
 * 3 seconds include the cold start and the signature check): a press that could not be queued is
 * answered with an error rather than late.
 */
function workerDispatch(
  runtime: RuntimeConfig,
  config: SlackRuntimeConfig,
  credentials: SlackBuildOptions["credentials"],
): (job: SlackInteractionJob) => Promise<void> {
  const functionName = config.workerFunction;
  if (!functionName) {
    return async () => {
      throw new Error("GANTRY_SLACK_WORKER_FUNCTION is not set: button presses have nowhere to go");
    };
  }
  const invoker = lazyPort<{ dispatch(job: unknown): Promise<void> }>(async () =>
    (await import("./clients/slack-worker.ts")).buildSlackWorkerInvoker(
      {
        region: runtime.region,
        ...(credentials ? { credentials } : {}),
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
      },
      functionName,
    ),
  );
  return (job) => invoker.dispatch(job);
}

/** The de-duplication key of a notification: its SNS message, byte for byte. */
export function notificationKey(rawMessage: string): string {
  return createHash("sha256").update(rawMessage).digest("hex");
}

export function createSlackHandlers(provide: () => SlackContext) {
  return {
    notify: gantryHandler({
      name: "slack-notify",
      parse: parseSnsNotificationEvent,
      // De-duplication is the thread store's, on the message itself: it also catches a message
      // published twice, which an event-id key would not.
      idempotency: false,
      handle: async (records) => {
        const context = provide();
        if (!context.slack) {
          metrics.addMetric(SLACK_METRICS.notConfigured, MetricUnit.Count, records.length);
          logger.warn("Slack is not configured (no bot token, no webhook URL): notification skipped");
          return { deliveries: [] as SlackDelivery[] };
        }
        const deliveries: SlackDelivery[] = [];
        for (const record of records) {
          deliveries.push(
            ...(await deliverSlackNotification(context, record.rawMessage, record.notification)),
          );
        }
        const duplicates = deliveries.filter((delivery) => delivery.action === "duplicate").length;
        metrics.addMetric(SLACK_METRICS.posted, MetricUnit.Count, deliveries.length - duplicates);
        if (duplicates > 0) metrics.addMetric(SLACK_METRICS.duplicates, MetricUnit.Count, duplicates);
        return { deliveries };
      },
    }),
    interactivity: gantryHandler({
      name: "slack-interactivity",
      parse: parseFunctionUrlEvent,
      idempotency: false,
      handle: async (request) => acknowledgeInteraction(provide(), request),
    }),
    worker: gantryHandler({
      name: "slack-interactivity-worker",
      parse: parseSlackInteractionJob,
      // A press applied twice changes nothing the second time (each action checks, under a
      // conditional write, that the release is still where the message showed it).
      idempotency: false,
      handle: async (job) => performInteraction(provide(), job),
    }),
  };
}

/**
 * One notification to Slack, keyed by its raw message: what the subscriber does per SNS record,
 * and what `gantry notifications replay` does per dead letter (so a replay posts nothing twice).
 */
export async function deliverSlackNotification(
  context: SlackContext,
  rawMessage: string,
  notification: SlackNotification,
): Promise<SlackDelivery[]> {
  if (!context.slack) throw new Error("Slack is not configured: set a bot token or a webhook URL");
  return deliverToSlack(deliveryDeps(context, context.slack), {
    notification,
    key: notificationKey(rawMessage),
  });
}

function deliveryDeps(context: SlackContext, slack: SlackPort) {
  return {
    slack,
    threads: context.threads,
    ledger: context.app.deps.ledger,
    routing: context.config.routing,
    channelTagOf: (serviceArn: string) => context.channelTagOf(serviceArn),
    newOwner: () => randomUUID(),
    sleep: context.sleep,
  };
}

/** The deployed pair: Gantry's config bundled in, secrets from SST, everything built at first use. */
export function slackLambdaHandlers(configInput: GantryConfigInput, readSecret: SecretReader) {
  const config = parseGantryConfig(configInput);
  let context: SlackContext | undefined;
  return createSlackHandlers(() => {
    if (!context) {
      const runtime = loadRuntimeConfig();
      context = buildSlackContext(
        buildAppContext(runtime, config),
        runtime,
        parseSlackConfig(process.env, readSecret),
      );
    }
    return context;
  });
}

// ---------------------------------------------------------------------------------------------------
// Interactivity

export interface FunctionUrlRequest {
  method: string;
  /** Lower-cased names, as Lambda function URLs deliver them. */
  headers: Record<string, string | undefined>;
  /** Exactly the bytes Slack signed. */
  rawBody: string;
}

export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const functionUrlEventSchema = z.looseObject({
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({ http: z.looseObject({ method: z.string() }).optional() }).optional(),
});

export function parseFunctionUrlEvent(raw: unknown): FunctionUrlRequest {
  const event = functionUrlEventSchema.parse(raw);
  const headers = Object.fromEntries(
    Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const body = event.body ?? "";
  return {
    method: event.requestContext?.http?.method ?? "POST",
    headers,
    rawBody: event.isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body,
  };
}

const blockActionsSchema = z.looseObject({
  type: z.literal("block_actions"),
  user: z.looseObject({ id: z.string(), username: z.string().optional(), name: z.string().optional() }),
  team: z.looseObject({ id: z.string() }).nullish(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })).min(1),
  response_url: z.string().optional(),
  channel: z.looseObject({ id: z.string() }).nullish(),
  message: z.looseObject({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
});

type BlockActions = z.infer<typeof blockActionsSchema>;

/**
 * What the interactivity function hands to the worker: a verified press from an approver
 * (`apply`), or only an answer for the presser (`notice`, e.g. not an approver). Where to answer
 * travels with it: Slack's `response_url` (valid for 30 minutes) and the message pressed.
 */
export type SlackInteractionJob = z.infer<typeof slackInteractionJobSchema>;

const headlineActionSchema = z.enum(["approve-once", "keep-blocked", "rollback", "lift-quarantine"]);
const slackInteractionJobSchema = z.object({
  kind: z.enum(["apply", "notice"]),
  action: headlineActionSchema,
  target: z
    .object({
      serviceArn: z.string().min(1),
      digest: z.string().min(1),
      rollbackTo: z.string().min(1).optional(),
    })
    .optional(),
  user: z.string().min(1),
  actor: z.string().min(1),
  text: z.string().optional(),
  responseUrl: z.string().optional(),
  channelId: z.string().optional(),
  messageTs: z.string().optional(),
  threadTs: z.string().optional(),
});

export function parseSlackInteractionJob(raw: unknown): SlackInteractionJob {
  const job = slackInteractionJobSchema.parse(raw);
  if (job.kind === "apply" && !job.target) throw new Error("a Slack job to apply names no target");
  return job;
}

const reply = (statusCode: number, body = ""): FunctionUrlResponse => ({
  statusCode,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body,
});

const ACTION_WORDS: Record<HeadlineAction, string> = {
  "approve-once": "Approve once",
  "keep-blocked": "Keep blocked",
  rollback: "Roll back to last good",
  "lift-quarantine": "Lift quarantine",
};

/**
 * The function URL's side: only what is cheap and decides whether the press counts (signature,
 * replay, workspace, action, approver), then the hand-off and the 200. Nothing here waits on App
 * Runner or Slack.
 */
async function acknowledgeInteraction(
  context: SlackContext,
  request: FunctionUrlRequest,
): Promise<FunctionUrlResponse> {
  if (request.method !== "POST") return reply(405, "method not allowed");
  const verification = await verifySlackRequest(
    {
      signingSecret: context.config.signingSecret,
      clock: context.app.deps.clock,
      claimNonce: (nonce, expiresAt) => context.threads.claimNonce(nonce, expiresAt),
    },
    request,
  );
  if (!verification.ok) {
    metrics.addMetric(SLACK_METRICS.rejected, MetricUnit.Count, 1);
    logger.warn("Slack request rejected", { reason: verification.reason });
    return reply(401, "invalid request");
  }

  const payload = parsePayload(request.rawBody);
  if (!payload) return reply(200); // another kind of interaction (shortcut, view): nothing to do
  if (context.config.teamId && payload.team?.id !== context.config.teamId) {
    metrics.addMetric(SLACK_METRICS.rejected, MetricUnit.Count, 1);
    logger.warn("Slack request rejected", { reason: "foreign-workspace" });
    return reply(403, "wrong workspace");
  }
  const pressed = payload.actions[0];
  const action = pressed ? actionFromId(pressed.action_id) : undefined;
  const target = pressed?.value ? parseActionValue(pressed.value) : undefined;
  if (!action || !target) return reply(400, "unknown action");

  const user = payload.user.id;
  const actor = `${payload.user.username ?? payload.user.name ?? user} (Slack ${user})`;
  const answerTo = {
    ...(payload.response_url ? { responseUrl: payload.response_url } : {}),
    ...(payload.channel?.id ? { channelId: payload.channel.id } : {}),
    ...(payload.message?.ts ? { messageTs: payload.message.ts } : {}),
    ...(payload.message?.thread_ts ? { threadTs: payload.message.thread_ts } : {}),
  };
  if (!context.config.approvers.has(user)) {
    metrics.addMetric(SLACK_METRICS.refused, MetricUnit.Count, 1);
    logger.warn("Slack action refused: not an approver", { action, user });
    return handOff(context, {
      kind: "notice",
      action,
      user,
      actor,
      text: `Only Gantry's approvers can ${ACTION_WORDS[action].toLowerCase()}; nothing was changed.`,
      ...answerTo,
    });
  }
  return handOff(context, { kind: "apply", action, target, user, actor, ...answerTo });
}

async function handOff(context: SlackContext, job: SlackInteractionJob): Promise<FunctionUrlResponse> {
  try {
    await context.dispatch(job);
  } catch (error) {
    // Nothing was applied. Slack shows the presser that the app failed; pressing again is safe.
    metrics.addMetric(SLACK_METRICS.handOffFailed, MetricUnit.Count, 1);
    logger.error("Slack press not handed to the worker", {
      action: job.action,
      error: (error as Error).name,
      message: redactText((error as Error).message ?? ""),
    });
    return reply(503, "try again");
  }
  logger.info("Slack press acknowledged", { action: job.action, kind: job.kind, user: job.user });
  return reply(200);
}

/** The worker's side: apply the press, then tell the thread and the presser what happened. */
async function performInteraction(
  context: SlackContext,
  job: SlackInteractionJob,
): Promise<{ applied: boolean }> {
  if (job.kind === "notice" || !job.target) {
    await tell(context, job, job.text ?? "Nothing was changed.");
    return { applied: false };
  }
  const { action, target, actor, user } = job;
  let effects: Effect[];
  try {
    effects = await applySlackAction(context.app.deps, { action, ...target, actor });
  } catch (error) {
    const { kind } = classifyError(error);
    metrics.addMetric(SLACK_METRICS.refused, MetricUnit.Count, 1);
    logger.warn("Slack action not applied", {
      action,
      user,
      kind,
      error: redactText((error as Error).message ?? ""),
    });
    const why =
      kind === "retry"
        ? "AWS is busy, try again in a minute"
        : redactText((error as Error).message ?? "error");
    await tell(context, job, `Could not ${ACTION_WORDS[action].toLowerCase()}: ${why}`);
    return { applied: false };
  }
  metrics.addMetric(SLACK_METRICS.applied, MetricUnit.Count, 1);
  logger.info("Slack action applied", { action, user, digest: target.digest });
  await announce(context.app, effects);
  await acknowledgeInThread(context, job, action, actor, target, effects);
  await showDecision(context, job, target);
  return { applied: true };
}

function parsePayload(rawBody: string): BlockActions | undefined {
  const text = new URLSearchParams(rawBody).get("payload");
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = blockActionsSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** Publishes what the action did, as every Gantry function does (the journal already has it). */
async function announce(app: AppContext, effects: Effect[]): Promise<void> {
  app.observe?.("slack-interactivity", effects);
  for (const effect of effects) {
    const notification = toNotification(effect, app.deps.clock.now());
    if (!notification) continue;
    try {
      await app.notifier.publish(notification);
    } catch (error) {
      metrics.addMetric("NotificationFailures", MetricUnit.Count, 1);
      logger.error("notification not published", {
        kind: notification.kind,
        error: (error as Error).message,
      });
    }
  }
}

/**
 * Notifications land in the thread of the release they name. A rollback names the digest rolled
 * back to, so the thread the button was pressed in gets a reply saying what happened.
 */
async function acknowledgeInThread(
  context: SlackContext,
  job: SlackInteractionJob,
  action: HeadlineAction,
  actor: string,
  target: { serviceArn: string; digest: string },
  effects: Effect[],
): Promise<void> {
  const channel = job.channelId;
  const root = job.threadTs ?? job.messageTs;
  if (context.slack?.mode !== "bot" || !channel || !root) return;
  if (effects.some((effect) => effect.digest === target.digest && effect.serviceArn === target.serviceArn))
    return;
  const first = effects[0];
  const notification: SlackNotification = {
    schemaVersion: 1,
    kind: first?.type ?? "notify",
    level: first?.level ?? "info",
    ...(first?.service ? { service: first.service } : {}),
    reasons: first?.reasons ?? [],
    message: `${actor} pressed “${ACTION_WORDS[action]}”: ${first?.message ?? presentKind("notify").title}`,
    at: context.app.deps.clock.now().toISOString(),
  };
  try {
    await context.slack.post({ channel, threadTs: root, message: renderReply(notification) });
  } catch (error) {
    logger.warn("Slack acknowledgement not posted", { error: (error as Error).name });
  }
}

/** The headline shows the decision now; the notifications follow through SNS. */
async function showDecision(
  context: SlackContext,
  job: SlackInteractionJob,
  target: { serviceArn: string; digest: string },
): Promise<void> {
  if (!context.slack) return;
  try {
    if (context.slack.mode === "bot") {
      await refreshHeadlines(
        {
          slack: context.slack,
          threads: context.threads,
          ledger: context.app.deps.ledger,
          newOwner: () => randomUUID(),
        },
        target,
      );
      return;
    }
    if (!job.responseUrl) return;
    const release = await context.app.deps.ledger.getRelease(target.serviceArn, target.digest);
    if (!release) return;
    const headline = await currentHeadline(
      { ledger: context.app.deps.ledger },
      {
        schemaVersion: 1,
        kind: "notify",
        level: "info",
        service: release.serviceName,
        serviceArn: release.serviceArn,
        digest: release.digest,
        reasons: [],
        message: "",
        at: context.app.deps.clock.now().toISOString(),
      },
    );
    await context.slack.respond(job.responseUrl, { ...renderHeadline(headline), replaceOriginal: true });
  } catch (error) {
    // The decision is made and published; a stale headline is fixed by the next delivery.
    logger.warn("Slack headline not refreshed", { error: (error as Error).name });
  }
}

/** An ephemeral answer to the person who pressed the button. */
async function tell(context: SlackContext, job: SlackInteractionJob, text: string): Promise<void> {
  if (!context.slack || !job.responseUrl) return;
  try {
    await context.slack.respond(job.responseUrl, { ...renderNotice(text), ephemeral: true });
  } catch (error) {
    logger.warn("Slack response not sent", { error: (error as Error).name });
  }
}
