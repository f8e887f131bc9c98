/**
 * What wakes Gantry up: one EventBridge rule per entry of `gantryRules` on the account's
 * default bus (the same patterns the sandbox's in-process bus matches), and the reconciler's
 * schedule. EventBridge delivery failures (throttled or refused invocations) are retried,
 * then parked in DeadLetters like every other failure.
 *
 * `apprunner-pause-call` matches CloudTrail's record of `PauseService` (who paused a service, so a
 * person's pause is never resumed automatically). CloudTrail management events reach EventBridge
 * only if the account has a trail with logging enabled covering this region (CloudTrail's event
 * history alone is not enough). Without one this rule never fires, no pause is attributed to a
 * person, and services whose policy sets `autoResume` are resumed after the grace period.
 */

import { gantryRules } from "../packages/events/src/rules.ts";
import { deadLetters } from "./dead-letters";
import { gantryFunctions } from "./functions";

/** EventBridge's retry budget for delivering to Lambda; an hour covers a regional throttle. */
const delivery = {
  retryPolicy: { maximumEventAgeInSeconds: 60 * 60, maximumRetryAttempts: 10 },
  deadLetterConfig: { arn: deadLetters.arn },
};

/** `ecr-image-push` → `EcrImagePush`: Pulumi logical names stay stable as long as the rule names do. */
const pascal = (name: string) =>
  name
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

/** Rule names are capped at 64 characters: shorten the app/stage prefix, never the rule name. */
const ruleName = (name: string) => `${`${$app.name}-${$app.stage}`.slice(0, 63 - name.length)}-${name}`;

export const rules = gantryRules.map((rule) => {
  const id = pascal(rule.name);
  const fn = gantryFunctions[rule.target];
  const eventRule = new aws.cloudwatch.EventRule(`${id}Rule`, {
    name: ruleName(rule.name),
    description: rule.description,
    eventBusName: "default",
    eventPattern: JSON.stringify(rule.pattern),
  });
  new aws.cloudwatch.EventTarget(`${id}Target`, {
    rule: eventRule.name,
    eventBusName: "default",
    arn: fn.arn,
    ...delivery,
  });
  new aws.lambda.Permission(`${id}Permission`, {
    action: "lambda:InvokeFunction",
    function: fn.name,
    principal: "events.amazonaws.com",
    sourceArn: eventRule.arn,
  });
  return eventRule;
});

/**
 * App Runner, ECR and Inspector events are best effort; the reconciler compares the ledger with
 * the APIs. `input: undefined` delivers EventBridge's own Scheduled Event (id, time) instead of
 * Cron's default `{}`, so each tick can be traced.
 */
export const reconciler = new sst.aws.Cron("Reconciler", {
  schedule: "rate(5 minutes)",
  function: gantryFunctions.reconcile,
  transform: { target: { ...delivery, input: undefined } },
});

/** EventBridge writes to a target's DLQ as events.amazonaws.com; only our own rules may. */
export const deadLettersPolicy = new aws.sqs.QueuePolicy("DeadLettersPolicy", {
  queueUrl: deadLetters.url,
  policy: aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        sid: "EventBridgeDeadLetters",
        effect: "Allow",
        principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
        actions: ["sqs:SendMessage"],
        resources: [deadLetters.arn],
        conditions: [
          {
            test: "ArnEquals",
            variable: "aws:SourceArn",
            values: [...rules.map((rule) => rule.arn), reconciler.nodes.rule.arn],
          },
        ],
      },
    ],
  }).json,
});
