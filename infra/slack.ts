/**
 * Slack: a subscriber on the notifications topic (behind a filter policy on the `level` and
 * `service` message attributes) that keeps one thread per release, and a function URL Slack sends
 * button presses to. Slack is a separate subscriber, so a failing Slack never blocks or slows a
 * deploy decision; what it cannot deliver after Lambda's retries lands in SlackDeadLetters, with
 * the original SNS event, for `gantry notifications replay`.
 *
 * Secrets (`npx sst secret set SlackBotToken xoxb-…`, or SlackWebhookUrl; SlackSigningSecret for
 * the buttons) are SST secrets, linked, never in the environment. With none set, the functions
 * deploy and skip Slack. Routing is set at deploy time from the shell or `.env`:
 *   GANTRY_SLACK_CHANNELS   `deploys,oncall=failure` (default `deploys`)
 *   GANTRY_SLACK_APPROVERS  Slack user ids allowed to press the buttons
 *   GANTRY_SLACK_TEAM_ID    optional: your workspace's id
 *   GANTRY_SLACK_SERVICES   optional: only these services reach Slack (the filter policy)
 */

import { parseSlackChannels, slackFilterPolicy } from "../packages/core/src/slack/routing.ts";
import { nodejsBundling } from "./bundling";
import { deadLetters } from "./dead-letters";
import { alarms, notifications, notificationsPublish } from "./notifications";
import { permissions } from "./permissions";
import { retryEnvironment, scheduleRetries } from "./recovery";
import { idempotency, ledger, ledgerAccess } from "./storage";
import { publicFunctionConcurrency } from "./throttling";

const partition = aws.getPartitionOutput().partition;
const region = aws.getRegionOutput().region;
const account = aws.getCallerIdentityOutput().accountId;
const appRunnerServices = $interpolate`arn:${partition}:apprunner:${region}:${account}:service/*`;

export const slackWebhookUrl = new sst.Secret("SlackWebhookUrl", "");
export const slackBotToken = new sst.Secret("SlackBotToken", "");
export const slackSigningSecret = new sst.Secret("SlackSigningSecret", "");

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");

/** Checked here, so a typo fails `sst deploy` rather than every notification at run time. */
const channels = process.env.GANTRY_SLACK_CHANNELS?.trim() || "deploys";
const routing = parseSlackChannels(channels);
const approvers = list(process.env.GANTRY_SLACK_APPROVERS);
for (const id of approvers) {
  if (!/^[UW][A-Z0-9]{2,20}$/.test(id)) {
    throw new Error(`GANTRY_SLACK_APPROVERS: "${id}" is not a Slack user id (U… or W…)`);
  }
}
const teamId = process.env.GANTRY_SLACK_TEAM_ID?.trim() ?? "";
if (teamId && !/^T[A-Z0-9]{2,20}$/.test(teamId)) {
  throw new Error(`GANTRY_SLACK_TEAM_ID: "${teamId}" is not a Slack team id (T…)`);
}
export const slackFilter = slackFilterPolicy(routing, list(process.env.GANTRY_SLACK_SERVICES));

/** 14 days, like DeadLetters: time to notice, fix Slack and replay. */
export const slackDeadLetters = new sst.aws.Queue("SlackDeadLetters", {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 60 * 60, sqsManagedSseEnabled: true } },
});

export const slackDeadLettersAlarm = new aws.cloudwatch.MetricAlarm("SlackDeadLettersAlarm", {
  name: `${$app.name}-${$app.stage}-slack-dead-letters`,
  alarmDescription:
    "Gantry: Slack notifications were not delivered; fix Slack, then `gantry notifications replay`.",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: slackDeadLetters.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
  alarmActions: [alarms.arn],
  okActions: [alarms.arn],
});

/** The thread store's calls on the ledger table: reads, conditional updates. */
const slackLedgerAccess = new sst.Linkable("SlackLedgerAccess", {
  properties: { name: ledger.name, arn: ledger.arn },
  include: [
    sst.aws.permission({
      actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
      resources: [ledger.arn],
    }),
  ],
});

function environment() {
  return {
    GANTRY_LEDGER_TABLE: ledger.name,
    GANTRY_IDEMPOTENCY_TABLE: idempotency.name,
    GANTRY_TOPIC_ARN: notifications.arn,
    GANTRY_STAGE: $app.stage,
    GANTRY_SLACK_CHANNELS: channels,
    GANTRY_SLACK_APPROVERS: approvers.join(","),
    GANTRY_SLACK_TEAM_ID: teamId,
    POWERTOOLS_SERVICE_NAME: "gantry",
    POWERTOOLS_METRICS_NAMESPACE: "Gantry",
  };
}

const lambdaTrust = aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" });
const shared = {
  runtime: "nodejs22.x" as const,
  architecture: "arm64" as const,
  memory: "512 MB" as const,
  timeout: "60 seconds" as const,
  nodejs: nodejsBundling,
  logging: { format: "json" as const, retention: "1 month" as const },
  environment: environment(),
};

/** A statement of the gate's function reused as it is. */
const useCaseCalls = (action: string) =>
  permissions["image-scan"].filter((permission) => permission.actions.some((name) => name === action));

export const slackNotify = new sst.aws.Function("SlackNotify", {
  ...shared,
  handler: "functions/slack-notify.handler",
  description: "Gantry: post domain notifications to Slack, one thread per release",
  link: [slackLedgerAccess, slackWebhookUrl, slackBotToken],
  permissions: [
    // The `gantry:channel` tag of the service a notification is about.
    {
      actions: ["apprunner:DescribeService", "apprunner:ListTagsForResource"],
      resources: [appRunnerServices],
    },
    // Lambda delivers a failed invocation to the on-failure destination with this role.
    { actions: ["sqs:SendMessage"], resources: [slackDeadLetters.arn] },
  ],
  retries: 2,
  transform: {
    role: $dev ? undefined : { assumeRolePolicy: lambdaTrust },
    eventInvokeConfig: {
      maximumEventAgeInSeconds: 6 * 60 * 60,
      destinationConfig: { onFailure: { destination: slackDeadLetters.arn } },
    },
  },
});

/**
 * The worker's name is fixed, so the interactivity function's environment and IAM name it from
 * known parts rather than from the worker's outputs (which carry its linked Slack token's secrecy).
 * Lambda function names are capped at 64: the prefix is shortened, never the suffix.
 */
const SLACK_WORKER_NAME = `${`${$app.name}-${$app.stage}`.slice(0, 63 - "slack-worker".length)}-slack-worker`;
const slackWorkerArn = $interpolate`arn:${partition}:lambda:${region}:${account}:function:${SLACK_WORKER_NAME}`;

/**
 * Applies a button press after the interactivity function acknowledged it (an asynchronous `Event`
 * invocation): it deploys like the retry function does (read, wait, update, pass the access role,
 * quote the logs of an operation settled on the way), may schedule a durable retry, publishes what
 * happened and edits the message.
 */
export const slackInteractivityWorker = new sst.aws.Function("SlackInteractivityWorker", {
  ...shared,
  name: SLACK_WORKER_NAME,
  environment: { ...environment(), ...retryEnvironment },
  handler: "functions/slack-interactivity-worker.handler",
  description: "Gantry: apply acknowledged Slack button presses through the use cases",
  // Presses arrive only through the public URL, which is capped: so is the work they start.
  concurrency: publicFunctionConcurrency,
  link: [ledgerAccess, notificationsPublish, slackWebhookUrl, slackBotToken],
  permissions: [
    ...permissions.retry,
    ...scheduleRetries,
    // Lifting a quarantine judges the digest's scan again (finding ids for CVE exceptions).
    {
      actions: ["ecr:DescribeImageScanFindings"],
      resources: [$interpolate`arn:${partition}:ecr:${region}:${account}:repository/*`],
    },
    ...useCaseCalls("inspector2:ListFindings"),
    // Lambda delivers a failed invocation to the on-failure destination with this role.
    { actions: ["sqs:SendMessage"], resources: [deadLetters.arn] },
  ],
  retries: 2,
  transform: {
    role: $dev ? undefined : { assumeRolePolicy: lambdaTrust },
    eventInvokeConfig: {
      // Slack's response_url, the only way to tell the presser, lasts 30 minutes
      // (https://docs.slack.dev/interactivity/handling-user-interaction): a press not applied by
      // then is dropped to DeadLetters rather than applied behind everyone's back.
      maximumEventAgeInSeconds: 30 * 60,
      destinationConfig: { onFailure: { destination: deadLetters.arn } },
    },
  },
});

/**
 * Slack's request URL for button presses. It must answer within 3 seconds
 * (https://docs.slack.dev/interactivity/handling-user-interaction), so it only checks what decides
 * whether a press counts (signature, replay nonce, workspace, approver), hands the press to the
 * worker and answers. It can claim nonces and invoke the worker, nothing else: not deploy, not
 * publish, not read a Slack token.
 */
export const slackInteractivity = new sst.aws.Function("SlackInteractivity", {
  ...shared,
  environment: { ...environment(), GANTRY_SLACK_WORKER_FUNCTION: SLACK_WORKER_NAME },
  handler: "functions/slack-interactivity.handler",
  description: "Gantry: Slack buttons (verified, allowlisted), acknowledged and handed to the worker",
  // Its URL is public: a flood is throttled here, never in the deploy functions (infra/throttling.ts).
  concurrency: publicFunctionConcurrency,
  link: [slackSigningSecret],
  permissions: [
    // Replay protection: one conditional put per request nonce (TTL'd) in the ledger table.
    { actions: ["dynamodb:PutItem"], resources: [ledger.arn] },
    // InvocationType Event: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
    { actions: ["lambda:InvokeFunction"], resources: [slackWorkerArn] },
  ],
  transform: { role: $dev ? undefined : { assumeRolePolicy: lambdaTrust } },
});

/**
 * The interactivity URL to give Slack. Public on purpose: Slack cannot sign with IAM; the handler
 * accepts only requests carrying Slack's signature (and refuses replays). Declared here rather than
 * with `url: true` so its pieces are plain resources the offline check can see.
 */
export const slackInteractivityUrl = new aws.lambda.FunctionUrl("SlackInteractivityUrl", {
  functionName: slackInteractivity.name,
  authorizationType: "NONE",
  invokeMode: "BUFFERED",
});

new aws.lambda.Permission("SlackInteractivityUrlAccess", {
  action: "lambda:InvokeFunctionUrl",
  function: slackInteractivity.name,
  principal: "*",
  functionUrlAuthType: "NONE",
});

// Since October 2025 a public function URL also needs lambda:InvokeFunction, for URL calls only.
new aws.lambda.Permission("SlackInteractivityUrlInvoke", {
  action: "lambda:InvokeFunction",
  function: slackInteractivity.name,
  principal: "*",
  invokedViaFunctionUrl: true,
});

export const slackSubscription = new aws.sns.TopicSubscription("SlackNotifySubscription", {
  topic: notifications.arn,
  protocol: "lambda",
  endpoint: slackNotify.arn,
  filterPolicyScope: "MessageAttributes",
  filterPolicy: JSON.stringify(slackFilter),
  // SNS could not invoke the function at all (throttled past its retries, permission removed).
  redrivePolicy: $jsonStringify({ deadLetterTargetArn: slackDeadLetters.arn }),
});

new aws.lambda.Permission("SlackNotifyPermission", {
  action: "lambda:InvokeFunction",
  function: slackNotify.name,
  principal: "sns.amazonaws.com",
  sourceArn: notifications.arn,
});

/** SNS writes the subscription's undeliverable messages to the queue as sns.amazonaws.com. */
export const slackDeadLettersPolicy = new aws.sqs.QueuePolicy("SlackDeadLettersPolicy", {
  queueUrl: slackDeadLetters.url,
  policy: aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        sid: "NotificationsSubscriptionDeadLetters",
        effect: "Allow",
        principals: [{ type: "Service", identifiers: ["sns.amazonaws.com"] }],
        actions: ["sqs:SendMessage"],
        resources: [slackDeadLetters.arn],
        conditions: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [notifications.arn] }],
      },
    ],
  }).json,
});
