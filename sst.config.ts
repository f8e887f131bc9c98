/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    return {
      name: "gantry",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
      home: "aws",
      providers: { aws: { region: "us-east-1" } },
    };
  },
  // SST forbids top-level imports in this file; each infra module is loaded here, in dependency order.
  async run() {
    const storage = await import("./infra/storage");
    const notifications = await import("./infra/notifications");
    const deadLetters = await import("./infra/dead-letters");
    const recovery = await import("./infra/recovery");
    await import("./infra/functions");
    await import("./infra/events");
    const observability = await import("./infra/observability");
    const uploads = await import("./infra/uploads");
    const slack = await import("./infra/slack");

    return {
      ledgerTable: storage.ledger.name,
      idempotencyTable: storage.idempotency.name,
      notificationsTopicArn: notifications.notifications.arn,
      alarmsTopicArn: notifications.alarms.arn,
      deadLettersUrl: deadLetters.deadLetters.url,
      retryScheduleGroup: recovery.retryScheduleGroup.name,
      dashboardName: observability.dashboard.dashboardName,
      ...uploads.uploadOutputs,
      slackInteractivityUrl: slack.slackInteractivityUrl.functionUrl,
      slackDeadLettersUrl: slack.slackDeadLetters.url,
    };
  },
});
