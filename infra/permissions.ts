/**
 * Least-privilege IAM for each Gantry function: only the API calls its code makes, App Runner
 * calls scoped to service ARNs. No statement uses a `*` action. A `*` resource appears only
 * where IAM offers nothing narrower, and each such place says why.
 *
 * Data-plane access (ledger, idempotency table, topic) comes with the links in `functions.ts`.
 */

import { deadLetters } from "./dead-letters";

type Permission = sst.aws.FunctionPermissionArgs;

const partition = aws.getPartitionOutput().partition;
const region = aws.getRegionOutput().region;
const account = aws.getCallerIdentityOutput().accountId;

const arn = (service: string, resource: string) =>
  $interpolate`arn:${partition}:${service}:${region}:${account}:${resource}`;

/** Every App Runner service in this account and region; Gantry finds managed ones by tag. */
const appRunnerServices = arn("apprunner", "service/*");

/**
 * The ECR access roles Gantry may pass back to App Runner: `UpdateService` and `CreateService`
 * send the service's full `SourceConfiguration`, `AuthenticationConfiguration.AccessRoleArn`
 * included, and App Runner checks `iam:PassRole` for it. Set
 * `GANTRY_APPRUNNER_ACCESS_ROLE_ARNS` (comma-separated, in the shell or `.env` at deploy time)
 * when your services use other roles than the one the App Runner console creates.
 */
const configuredAccessRoles = (process.env.GANTRY_APPRUNNER_ACCESS_ROLE_ARNS ?? "")
  .split(",")
  .map((value) => value.trim())
  .filter((value) => value !== "");
// Checked as the program is evaluated, not in an apply(): a throwing apply() leaves whatever depends
// on it unresolved (stack outputs included), and the offline check then waited instead of failing.
for (const role of configuredAccessRoles) {
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/.test(role)) {
    throw new Error(`GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "${role}" is not an IAM role ARN`);
  }
}
const accessRoles =
  configuredAccessRoles.length > 0
    ? configuredAccessRoles
    : [$interpolate`arn:${partition}:iam::${account}:role/service-role/AppRunnerECRAccessRole`];

/**
 * `ListServices` has no resource type in IAM: it can only be granted on `*`. It returns names
 * and ARNs only; every call that reads or changes a service is scoped below.
 */
const listServices: Permission = { actions: ["apprunner:ListServices"], resources: ["*"] };

/** Deploy by digest: read the service and its tags, wait out a running operation, update. */
const deployActions = [
  "apprunner:ListOperations",
  "apprunner:DescribeService",
  "apprunner:ListTagsForResource",
  "apprunner:UpdateService",
];
const deployServices: Permission = { actions: deployActions, resources: [appRunnerServices] };

const passAccessRoles: Permission = {
  actions: ["iam:PassRole"],
  resources: accessRoles,
  conditions: [
    { test: "StringEquals", variable: "iam:PassedToService", values: ["apprunner.amazonaws.com"] },
  ],
};

const readImages: Permission = {
  actions: ["ecr:DescribeImages", "ecr:DescribeImageScanFindings"],
  resources: [arn("ecr", "repository/*")],
};

/** `inspector2:ListFindings` has no resource type in IAM either; findings are filtered per image. */
const readFindings: Permission = { actions: ["inspector2:ListFindings"], resources: ["*"] };

/** Besides deploying: resume a service, rebuild it (`CREATE_FAILED` → delete + create). */
const operateServices: Permission = {
  actions: [
    ...deployActions,
    "apprunner:ResumeService",
    "apprunner:DeleteService",
    "apprunner:CreateService",
    // CreateService with `Tags` needs it: a rebuilt service must keep `gantry:managed` and
    // `gantry:policy`, or Gantry would lose track of it.
    "apprunner:TagResource",
  ],
  resources: [appRunnerServices],
};

/**
 * A rebuild recreates the service from its recorded spec, which names its auto scaling,
 * observability and VPC connector configurations; IAM checks CreateService against those ARNs too.
 */
const createFromRecordedSpec: Permission = {
  actions: ["apprunner:CreateService"],
  resources: [
    arn("apprunner", "autoscalingconfiguration/*"),
    arn("apprunner", "observabilityconfiguration/*"),
    arn("apprunner", "vpcconnector/*"),
  ],
};

/** Settling a finished operation quotes the service's logs (`service` and `application` groups). */
const readAppRunnerLogs: Permission = {
  actions: ["logs:FilterLogEvents"],
  resources: [arn("logs", "log-group:/aws/apprunner/*")],
};

/**
 * Lambda delivers a failed asynchronous invocation to its on-failure destination with the
 * function's own role, so every role may send to the dead-letter queue (and nothing else there).
 */
export const deliverFailures: Permission = { actions: ["sqs:SendMessage"], resources: [deadLetters.arn] };

/**
 * Per function: exactly the AWS calls its use cases make. Scheduling durable retries (every Gantry
 * function may) is granted in `functions.ts` with `scheduleRetries` from `recovery.ts`, together
 * with the environment it needs.
 */
export const permissions = {
  // A scan that arrived before its push makes the push handler decide and deploy.
  "image-push": [listServices, deployServices, passAccessRoles, readImages, readFindings, readAppRunnerLogs],
  "image-scan": [listServices, deployServices, passAccessRoles, readImages, readFindings, readAppRunnerLogs],
  "apprunner-event": [operateServices, createFromRecordedSpec, passAccessRoles, readAppRunnerLogs],
  retry: [deployServices, passAccessRoles, readAppRunnerLogs],
  reconcile: [
    listServices,
    operateServices,
    createFromRecordedSpec,
    passAccessRoles,
    readImages,
    readFindings,
    readAppRunnerLogs,
  ],
} satisfies Record<string, Permission[]>;
