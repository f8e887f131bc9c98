/**
 * Least-privilege IAM for each Gantry function: only the API calls its code makes, App Runner
 * calls scoped to service ARNs, and every App Runner call that changes a service allowed only on
 * services tagged `gantry:managed=true`. No statement uses a `*` action. A `*` resource appears only
 * where IAM offers nothing narrower, and each such place says why.
 *
 * Condition keys per action, from the Service Authorization Reference for App Runner
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapprunner.html):
 * UpdateService, DeleteService and ResumeService support `aws:ResourceTag/${TagKey}` (the tags of
 * the service acted on); CreateService and TagResource support `aws:RequestTag/${TagKey}` and
 * `aws:TagKeys` (the tags in the request).
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

/** The opt-in tag (DESIGN.md): without it Gantry may read a service, never change it. */
const MANAGED_TAG = "gantry:managed";
const onManagedServices = [
  { test: "StringEquals", variable: `aws:ResourceTag/${MANAGED_TAG}`, values: ["true"] },
];
/**
 * A service Gantry creates (a rebuild) carries the opt-in tag in the request. `ForAnyValue` with
 * `aws:TagKeys` fails closed when the request has no tags at all (`ForAllValues` would pass).
 */
const taggedManagedInRequest = [
  { test: "StringEquals", variable: `aws:RequestTag/${MANAGED_TAG}`, values: ["true"] },
  { test: "ForAnyValue:StringEquals", variable: "aws:TagKeys", values: [MANAGED_TAG] },
];

/** A comma-separated list of IAM role ARNs from the deploy environment (shell or `.env`). */
function configuredRoles(variable: string): string[] {
  const roles = (process.env[variable] ?? "")
    .split(",")
    .map((value) => value.trim())
    .filter((value) => value !== "");
  // Checked as the program is evaluated, not in an apply(): a throwing apply() leaves whatever depends
  // on it unresolved (stack outputs included), and the offline check then waited instead of failing.
  for (const role of roles) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/.test(role)) {
      throw new Error(`${variable}: "${role}" is not an IAM role ARN`);
    }
  }
  return roles;
}

/**
 * The ECR access roles Gantry may pass back to App Runner: `UpdateService` and `CreateService`
 * send the service's full `SourceConfiguration`, `AuthenticationConfiguration.AccessRoleArn`
 * included, and App Runner checks `iam:PassRole` for it. Set
 * `GANTRY_APPRUNNER_ACCESS_ROLE_ARNS` (comma-separated, in the shell or `.env` at deploy time)
 * when your services use other roles than the one the App Runner console creates.
 */
const configuredAccessRoles = configuredRoles("GANTRY_APPRUNNER_ACCESS_ROLE_ARNS");
const accessRoles =
  configuredAccessRoles.length > 0
    ? configuredAccessRoles
    : [$interpolate`arn:${partition}:iam::${account}:role/service-role/AppRunnerECRAccessRole`];

/**
 * The instance roles (`InstanceConfiguration.InstanceRoleArn`, what the service's code runs as) a
 * rebuild passes back to App Runner with `CreateService`. There is no default: list the roles your
 * managed services use in `GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS`, or a service with one cannot be
 * recreated. They are passed only to App Runner: AWS's AWSAppRunnerFullAccess policy scopes PassRole
 * with `iam:PassedToService` = apprunner.amazonaws.com, and an instance role trusts
 * tasks.apprunner.amazonaws.com (https://docs.aws.amazon.com/apprunner/latest/dg/security_iam_service-with-iam.html,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSAppRunnerFullAccess.html).
 */
const instanceRoles = configuredRoles("GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS");

/**
 * The roles a recreating function may pass (access and instance roles), for the runtime: before it
 * deletes a service, Gantry refuses a recreate whose spec names another role, as CreateService would
 * be denied once the old service is gone (`AppRunnerAdapter.checkRecreate`).
 */
export const passableRolesEnvironment = {
  GANTRY_APPRUNNER_PASSABLE_ROLE_ARNS: $resolve([...accessRoles, ...instanceRoles]).apply((roles) =>
    roles.join(","),
  ),
};

/**
 * `ListServices` has no resource type in IAM: it can only be granted on `*`. It returns names
 * and ARNs only; every call that reads or changes a service is scoped below.
 */
const listServices: Permission = { actions: ["apprunner:ListServices"], resources: ["*"] };

/**
 * Discovery asks the Resource Groups Tagging API which services carry `gantry:managed=true`, with
 * their tags, 100 per call (instead of one ListTagsForResource per service). `tag:GetResources`
 * has no resource type in IAM either: it can only be granted on `*`
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_resourcegroupstaggingapi.html).
 */
const findTaggedServices: Permission = { actions: ["tag:GetResources"], resources: ["*"] };

/** Read any service, its tags and operations: discovery reads every service to find the managed ones. */
const readServices: Permission = {
  actions: ["apprunner:ListOperations", "apprunner:DescribeService", "apprunner:ListTagsForResource"],
  resources: [appRunnerServices],
};

/** Deploy by digest: update a managed service only. */
const updateManagedServices: Permission = {
  actions: ["apprunner:UpdateService"],
  resources: [appRunnerServices],
  conditions: onManagedServices,
};

const deployServices: Permission[] = [readServices, updateManagedServices];

const passAccessRoles: Permission = {
  actions: ["iam:PassRole"],
  resources: accessRoles,
  conditions: [
    { test: "StringEquals", variable: "iam:PassedToService", values: ["apprunner.amazonaws.com"] },
  ],
};

const passInstanceRoles: Permission[] =
  instanceRoles.length === 0
    ? []
    : [
        {
          actions: ["iam:PassRole"],
          resources: instanceRoles,
          conditions: [
            {
              test: "StringEquals",
              variable: "iam:PassedToService",
              values: ["apprunner.amazonaws.com", "tasks.apprunner.amazonaws.com"],
            },
          ],
        },
      ];

/** The basic scan's findings. (`ecr:DescribeImages` is not granted: nothing in Gantry calls it.) */
const readImages: Permission = {
  actions: ["ecr:DescribeImageScanFindings"],
  resources: [arn("ecr", "repository/*")],
};

/** `inspector2:ListFindings` has no resource type in IAM either; findings are filtered per image. */
const readFindings: Permission = { actions: ["inspector2:ListFindings"], resources: ["*"] };

/** Besides deploying: resume a managed service, rebuild it (`CREATE_FAILED` → delete + create). */
const operateManagedServices: Permission = {
  actions: ["apprunner:UpdateService", "apprunner:ResumeService", "apprunner:DeleteService"],
  resources: [appRunnerServices],
  conditions: onManagedServices,
};

/**
 * Recreate a managed service. CreateService with `Tags` needs TagResource too: a rebuilt service
 * must keep `gantry:managed` and `gantry:policy`, or Gantry would lose track of it. Both only for a
 * request that tags the service `gantry:managed=true`.
 */
const createManagedServices: Permission = {
  actions: ["apprunner:CreateService", "apprunner:TagResource"],
  resources: [appRunnerServices],
  conditions: taggedManagedInRequest,
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
  conditions: taggedManagedInRequest,
};

/**
 * Before a recreate: a new service would not keep the custom domains associated with the old one's
 * ARN (https://docs.aws.amazon.com/apprunner/latest/api/API_DescribeCustomDomains.html).
 */
const readCustomDomains: Permission = {
  actions: ["apprunner:DescribeCustomDomains"],
  resources: [appRunnerServices],
};

const operateServices: Permission[] = [
  readServices,
  readCustomDomains,
  operateManagedServices,
  createManagedServices,
  createFromRecordedSpec,
];

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
/** Push and scan both run the gate and deploy: a scan that arrived before its push makes the push handler decide. */
const gateAndDeploy: Permission[] = [
  listServices,
  findTaggedServices,
  ...deployServices,
  passAccessRoles,
  readImages,
  readFindings,
  readAppRunnerLogs,
];

export const permissions = {
  "image-push": gateAndDeploy,
  "image-scan": gateAndDeploy,
  "apprunner-event": [...operateServices, passAccessRoles, ...passInstanceRoles, readAppRunnerLogs],
  retry: [...deployServices, passAccessRoles, readAppRunnerLogs],
  reconcile: [
    listServices,
    findTaggedServices,
    ...operateServices,
    passAccessRoles,
    ...passInstanceRoles,
    readImages,
    readFindings,
    readAppRunnerLogs,
  ],
} satisfies Record<string, Permission[]>;
