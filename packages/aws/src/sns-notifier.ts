import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Notification, NotifierPort } from "@gantry/core";

/**
 * Publishes domain notifications to the SNS topic. Message attributes `kind`, `level` and
 * `service` let subscriptions filter (the Slack subscriber routes by level and service).
 */
export class SnsNotifier implements NotifierPort {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notification: Notification): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(notification),
        // SNS subjects must be < 100 characters (FACTS §5).
        Subject: `Gantry ${notification.kind}${notification.service ? ` ${notification.service}` : ""}`.slice(
          0,
          99,
        ),
        MessageAttributes: {
          kind: { DataType: "String", StringValue: notification.kind },
          level: { DataType: "String", StringValue: notification.level },
          ...(notification.service
            ? { service: { DataType: "String", StringValue: notification.service } }
            : {}),
          schemaVersion: { DataType: "Number", StringValue: String(notification.schemaVersion) },
        },
      }),
    );
  }
}
