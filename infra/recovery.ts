/**
 * Durable retries: a failed deploy attempt is retried later by an EventBridge Scheduler one-time
 * schedule (in the `Retries` group) that invokes the retry function with the job as its payload.
 * SQS delays stop at 15 minutes; a policy's backoff may reach hours.
 *
 * Every name and ARN here is built from known names, not from the functions' outputs: the functions
 * need the role and group in their environment and IAM, and the role needs the retry function's
 * ARN, which would otherwise be a dependency cycle.
 */

const partition = aws.getPartitionOutput().partition;
const region = aws.getRegionOutput().region;
const account = aws.getCallerIdentityOutput().accountId;

/** Function, role and schedule group names are capped at 64: shorten the prefix, never the suffix. */
const named = (suffix: string) => `${`${$app.name}-${$app.stage}`.slice(0, 63 - suffix.length)}-${suffix}`;

/** The retry function's name: stable, so its ARN is known before it exists (`functions.ts` uses it). */
export const RETRY_FUNCTION_NAME = named("retry");
export const RETRY_SCHEDULE_GROUP = named("retries");

export const retryFunctionArn = $interpolate`arn:${partition}:lambda:${region}:${account}:function:${RETRY_FUNCTION_NAME}`;
const scheduleGroupArn = $interpolate`arn:${partition}:scheduler:${region}:${account}:schedule-group/${RETRY_SCHEDULE_GROUP}`;
/** CreateSchedule is authorised on the schedule: `schedule/<group>/<name>`. */
const retrySchedules = $interpolate`arn:${partition}:scheduler:${region}:${account}:schedule/${RETRY_SCHEDULE_GROUP}/*`;

/** Keeps retry schedules apart from anything else in the account (and scopes the IAM below to them). */
export const retryScheduleGroup = new aws.scheduler.ScheduleGroup("Retries", { name: RETRY_SCHEDULE_GROUP });

/**
 * The role EventBridge Scheduler assumes to invoke the retry function: only from schedules of this
 * account's `Retries` group (confused-deputy conditions as AWS recommends), only that function.
 */
export const retrySchedulerRole = new aws.iam.Role("RetrySchedulerRole", {
  name: named("retry-scheduler"),
  description: "Gantry: EventBridge Scheduler invokes the retry function",
  assumeRolePolicy: aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        effect: "Allow",
        principals: [{ type: "Service", identifiers: ["scheduler.amazonaws.com"] }],
        actions: ["sts:AssumeRole"],
        conditions: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: [account] },
          { test: "ArnEquals", variable: "aws:SourceArn", values: [scheduleGroupArn] },
        ],
      },
    ],
  }).json,
  inlinePolicies: [
    {
      name: "invoke-retry-function",
      policy: aws.iam.getPolicyDocumentOutput({
        statements: [{ effect: "Allow", actions: ["lambda:InvokeFunction"], resources: [retryFunctionArn] }],
      }).json,
    },
  ],
});

/** Read by the runtime (`runtime-config.ts`): all three or none. */
export const retryEnvironment = {
  GANTRY_RETRY_FUNCTION_ARN: retryFunctionArn,
  GANTRY_RETRY_ROLE_ARN: retrySchedulerRole.arn,
  // The group's output, not the constant: a function must not schedule into a group not yet created.
  GANTRY_RETRY_SCHEDULE_GROUP: retryScheduleGroup.name,
};

/** What a function needs to schedule a retry: create schedules in the group, hand them the role. */
export const scheduleRetries: sst.aws.FunctionPermissionArgs[] = [
  { actions: ["scheduler:CreateSchedule"], resources: [retrySchedules] },
  {
    actions: ["iam:PassRole"],
    resources: [retrySchedulerRole.arn],
    conditions: [
      { test: "StringEquals", variable: "iam:PassedToService", values: ["scheduler.amazonaws.com"] },
    ],
  },
];
