/**
 * The wire format of Gantry's domain notifications as a subscriber receives them: the Lambda SNS
 * event around a schema-version-1 notification (published by `SnsNotifier`). Unknown fields are
 * kept, so a newer producer's extras reach the renderer; a different schema version is refused.
 */
import type { SlackNotification } from "@gantry/core";
import * as z from "zod";
import { EventContractError } from "./event-contract-error.ts";

const attribute = z.object({ Type: z.string(), Value: z.string() });

const snsRecord = z.object({
  EventSource: z.string().optional(),
  EventSubscriptionArn: z.string().optional(),
  Sns: z.object({
    MessageId: z.string().min(1),
    TopicArn: z.string().min(1),
    Message: z.string(),
    Timestamp: z.string().optional(),
    Subject: z.string().nullish(),
    MessageAttributes: z.record(z.string(), attribute).default({}),
  }),
});

export const snsLambdaEventSchema = z.object({ Records: z.array(snsRecord).min(1) });

export const notificationMessageSchema = z.looseObject({
  schemaVersion: z.literal(1),
  kind: z.string().min(1),
  level: z.enum(["info", "warning", "failure"]),
  service: z.string().optional(),
  serviceArn: z.string().optional(),
  digest: z.string().optional(),
  releaseId: z.string().optional(),
  operationId: z.string().optional(),
  reasons: z.array(z.string()).default([]),
  message: z.string(),
  at: z.string(),
  outcome: z.string().optional(),
  actor: z.string().optional(),
});

export interface SnsNotificationRecord {
  messageId: string;
  topicArn: string;
  /** The SNS `Message` exactly as delivered: what de-duplication keys on. */
  rawMessage: string;
  /** `Type`/`Value` per attribute, as SNS hands them to Lambda. */
  attributes: Record<string, { Type: string; Value: string }>;
  notification: SlackNotification;
}

/** Every record of a Lambda SNS event, each message parsed and validated. */
export function parseSnsNotificationEvent(raw: unknown): SnsNotificationRecord[] {
  const event = snsLambdaEventSchema.parse(raw);
  return event.Records.map((record, index) => ({
    messageId: record.Sns.MessageId,
    topicArn: record.Sns.TopicArn,
    rawMessage: record.Sns.Message,
    attributes: record.Sns.MessageAttributes,
    notification: parseNotificationMessage(record.Sns.Message, `Records[${index}].Sns.Message`),
  }));
}

/** One notification from its JSON text (an SNS `Message`, a line of a replay file). */
export function parseNotificationMessage(text: string, field = "Message"): SlackNotification {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EventContractError({ source: "gantry.notifications", field, reason: "is not JSON" });
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== 1) {
    throw new EventContractError({
      source: "gantry.notifications",
      field: `${field}.schemaVersion`,
      reason: `schema version ${JSON.stringify(version)} is not supported (this build reads version 1)`,
    });
  }
  return notificationMessageSchema.parse(json) as SlackNotification;
}
