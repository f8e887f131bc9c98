/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Stages whose data must outlive a mistake: resources retained on removal, `sst remove` refused,
 * both tables deletion-protected, the ledger with point-in-time recovery, no bucket force-destroyed
 * (infra/ reads `$app.protect`). `GANTRY_PROTECTED_STAGES` (comma-separated, in the shell or `.env`)
 * replaces this list.
 */
const DEFAULT_PROTECTED_STAGES = ["prod", "production"];

function protectedStages(): string[] {
  const configured = (process.env.GANTRY_PROTECTED_STAGES ?? "")
    .split(",")
    .map((stage) => stage.trim())
    .filter((stage) => stage !== "");
  for (const stage of configured) {
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(stage)) {
      throw new Error(`GANTRY_PROTECTED_STAGES: "${stage}" is not a stage name`);
    }
  }
  return configured.length > 0 ? configured : DEFAULT_PROTECTED_STAGES;
}

/**
 * The stage's region: `GANTRY_REGION`, else the AWS SDK's own variables. SST reads `.env.<stage>`
 * before this runs, so each stage can name its own. With none set, the AWS provider takes the
 * region of the AWS profile, as every AWS tool does; nothing here picks one.
 */
function stageRegion(): string | undefined {
  for (const variable of ["GANTRY_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"]) {
    const value = process.env[variable]?.trim();
    if (!value) continue;
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value)) {
      throw new Error(`${variable}: "${value}" is not an AWS region (e.g. eu-west-1)`);
    }
    return value;
  }
  return undefined;
}

export default $config({
  app(input) {
    const protect = protectedStages().includes(input?.stage ?? "");
    const region = stageRegion();
    return {
      name: "gantry",
      removal: protect ? "retain" : "remove",
      protect,
      home: "aws",
      providers: { aws: region ? { region } : {} },
    };
  },
  // SST forbids top-level imports in this file; each infra module is loaded here, in dependency order.
  async run() {
    // First: it checks every SNS subscription the modules below declare.
    await import("./infra/sns-filter-policies");
    const storage = await import("./infra/storage");
    const notifications = await import("./infra/notifications");
    const deadLetters = await import("./infra/dead-letters");
    const recovery = await import("./infra/recovery");
    await import("./infra/functions");
    await import("./infra/events");
    const observability = await import("./infra/observability");
    const uploads = await import("./infra/uploads");
    const slack = await import("./infra/slack");
    const cli = await import("./infra/cli");

    return {
      region: cli.region,
      ledgerTable: storage.ledger.name,
      idempotencyTable: storage.idempotency.name,
      notificationsTopicArn: notifications.notifications.arn,
      alarmsTopicArn: notifications.alarms.arn,
      deadLettersUrl: deadLetters.deadLetters.url,
      retryScheduleGroup: recovery.retryScheduleGroup.name,
      retryFunctionArn: recovery.retryFunctionArn,
      retryRoleArn: recovery.retrySchedulerRole.arn,
      dashboardName: observability.dashboard.dashboardName,
      gantryConfigVersion: cli.gantryConfigVersion,
      cliEnvironment: cli.cliEnvironment,
      ...uploads.uploadOutputs,
      slackInteractivityUrl: slack.slackInteractivityUrl.functionUrl,
      slackDeadLettersUrl: slack.slackDeadLetters.url,
    };
  },
});
