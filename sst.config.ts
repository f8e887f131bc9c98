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
    await import("./infra/functions");
    await import("./infra/events");

    return {
      ledgerTable: storage.ledger.name,
      idempotencyTable: storage.idempotency.name,
      notificationsTopicArn: notifications.notifications.arn,
      alarmsTopicArn: notifications.alarms.arn,
      deadLettersUrl: deadLetters.deadLetters.url,
    };
  },
});
