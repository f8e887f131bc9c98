/**
 * The one place failed work ends up: every function's async on-failure destination and every
 * EventBridge target's dead-letter queue. Nothing consumes it automatically (a message here
 * means retrying did not help); the alarm tells a person to look.
 */

import { alarms } from "./notifications";

/** SQS's maximum retention, so a failure found after a long weekend can still be replayed. */
const RETENTION_SECONDS = 14 * 24 * 60 * 60;

export const deadLetters = new sst.aws.Queue("DeadLetters", {
  transform: {
    queue: {
      messageRetentionSeconds: RETENTION_SECONDS,
      sqsManagedSseEnabled: true,
    },
  },
});

/**
 * Fires as soon as one message is visible. SQS publishes queue metrics every five minutes, and a
 * queue holding messages never goes inactive, so missing data means "empty", not "unknown".
 */
export const deadLettersAlarm = new aws.cloudwatch.MetricAlarm("DeadLettersAlarm", {
  name: `${$app.name}-${$app.stage}-dead-letters`,
  alarmDescription: "Gantry: a function or EventBridge delivery gave up; inspect the DeadLetters queue.",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: deadLetters.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
  alarmActions: [alarms.arn],
  okActions: [alarms.arn],
});
