/**
 * Where Gantry speaks. `Notifications` carries domain notifications (the Slack subscriber parses
 * them); `Alarms` carries CloudWatch alarm state changes for operators, kept apart so that an
 * alarm payload never reaches a parser that expects a domain notification.
 */

export const notifications = new sst.aws.SnsTopic("Notifications");

/** Functions only publish: SST's own topic link would grant `sns:*`. */
export const notificationsPublish = new sst.Linkable("NotificationsPublish", {
  properties: { arn: notifications.arn },
  include: [sst.aws.permission({ actions: ["sns:Publish"], resources: [notifications.arn] })],
});

/** Subscribe an email address, a pager or AWS Chatbot to this topic after the first deploy. */
export const alarms = new sst.aws.SnsTopic("Alarms");
