/**
 * The five Lambda functions. Each handler file is thin (`functions/<name>.ts`); what differs
 * between them is the IAM in `permissions.ts`. Everything they share is decided once here.
 */

import type { RuleTarget } from "../packages/events/src/rules.ts";
import { nodejsBundling } from "./bundling";
import { deadLetters } from "./dead-letters";
import { notifications, notificationsPublish } from "./notifications";
import { deliverFailures, passableRolesEnvironment, permissions } from "./permissions";
import { RETRY_FUNCTION_NAME, retryEnvironment, scheduleRetries } from "./recovery";
import { idempotency, idempotencyAccess, ledger, ledgerAccess } from "./storage";

export type GantryFunction = RuleTarget | "reconcile" | "retry";

/**
 * Lambda's own retries of an asynchronous (EventBridge) invocation. Handlers are idempotent and
 * throw only on transient failures; after two retries the event goes to DeadLetters, and the
 * reconciler repairs whatever it would have done.
 */
const ASYNC_RETRIES = 2;
/** Lambda's maximum: an event delayed by throttling is still worth handling within 6 hours. */
const MAX_EVENT_AGE_SECONDS = 6 * 60 * 60;

/**
 * Seconds per function; 60 unless listed. The reconciler's budget is taken from its remaining time
 * (`packages/runtime/src/reconcile-budget.ts`): 4 minutes, under its 5-minute schedule so runs do
 * not overlap, fit 1,080 App Runner calls at the default 5/s, enough for a 1,000-service fleet's
 * discovery (50 calls with a warm fleet index) and the open work of a run; what does not fit
 * continues in the next run.
 */
const TIMEOUT_SECONDS: Partial<Record<GantryFunction, number>> = { reconcile: 240 };

const lambdaTrust = aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" });

/** The runtime reads its configuration from these names only (validated once per cold start). */
function environment() {
  return {
    GANTRY_LEDGER_TABLE: ledger.name,
    GANTRY_IDEMPOTENCY_TABLE: idempotency.name,
    GANTRY_TOPIC_ARN: notifications.arn,
    GANTRY_STAGE: $app.stage,
    POWERTOOLS_SERVICE_NAME: "gantry",
    POWERTOOLS_METRICS_NAMESPACE: "Gantry",
    // Every function may start a deploy, so every function may have to schedule its retry.
    ...retryEnvironment,
    // Checked before a recreate deletes anything (only the recreating functions may pass them all).
    ...passableRolesEnvironment,
  };
}

function gantryFunction(id: string, file: GantryFunction, description: string, name?: string) {
  return new sst.aws.Function(id, {
    ...(name === undefined ? {} : { name }),
    handler: `functions/${file}.handler`,
    description,
    runtime: "nodejs22.x",
    architecture: "arm64",
    memory: "512 MB",
    timeout: `${TIMEOUT_SECONDS[file] ?? 60} seconds`,
    nodejs: nodejsBundling,
    // Powertools Logger writes JSON; JSON log format lets Lambda honour its log level too.
    logging: { format: "json", retention: "1 month" },
    link: [ledgerAccess, idempotencyAccess, notificationsPublish],
    permissions: [...permissions[file], ...scheduleRetries, deliverFailures],
    environment: environment(),
    retries: ASYNC_RETRIES,
    transform: {
      // SST 4.17 also trusts the account root in every function role (for `sst dev`'s bridge; its
      // `!dev` test is on an Output, so it is always taken). Outside `sst dev`, Lambda only.
      role: $dev ? undefined : { assumeRolePolicy: lambdaTrust },
      eventInvokeConfig: {
        maximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS,
        destinationConfig: { onFailure: { destination: deadLetters.arn } },
      },
    },
  });
}

export const gantryFunctions: Record<GantryFunction, sst.aws.Function> = {
  "image-push": gantryFunction(
    "ImagePush",
    "image-push",
    "Gantry: record pushed digests as release candidates",
  ),
  "image-scan": gantryFunction(
    "ImageScan",
    "image-scan",
    "Gantry: gate scanned digests and deploy by digest",
  ),
  "apprunner-event": gantryFunction(
    "AppRunnerEvent",
    "apprunner-event",
    "Gantry: record App Runner outcomes; retry, roll back, resume, rebuild",
  ),
  // Invoked by EventBridge Scheduler with a job, not an event. Named, so that its ARN is known to the
  // other functions and the scheduler role without depending on the function itself.
  retry: gantryFunction(
    "Retry",
    "retry",
    "Gantry: a deploy attempt whose retry fell due",
    RETRY_FUNCTION_NAME,
  ),
  reconcile: gantryFunction("Reconcile", "reconcile", "Gantry: repair what lost events left undone"),
};
