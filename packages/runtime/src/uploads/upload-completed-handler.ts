import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  HttpUploadWebhook,
  S3UploadedObjects,
  UploadEventsPublisher,
  type UploadWebhookTarget,
} from "@gantry/aws";
import { type Clock, onUploadCompleted, systemClock, type UploadCompletionDeps } from "@gantry/core";
import { EventContractError } from "@gantry/events";
import * as z from "zod";
import { gantryHandler } from "../handler.ts";
import { s3ClientFor } from "./upload-presign-handler.ts";
import { parseUploadCompletedConfig, type UploadCompletedConfig } from "./upload-runtime-config.ts";

/**
 * S3 `ObjectCreated` notifications for the uploads bucket → `gantry.upload` / `Upload Completed` on
 * the default bus, then the app's signed webhook. Delivery is at least once (S3 and Lambda may
 * repeat an event; a failed webhook retries the whole record): consumers de-duplicate on
 * `key` + `sequencer`.
 */

const s3EventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string(),
        eventTime: z.string(),
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          object: z.object({
            key: z.string().min(1),
            size: z.number().optional(),
            sequencer: z.string().optional(),
          }),
        }),
      }),
    )
    .min(1),
});

export interface ObjectCreatedRecord {
  bucket: string;
  key: string;
  size: number;
  eventTime: string;
  sequencer: string;
}

/** S3 URL-encodes keys in notifications, with `+` for spaces. */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

export function parseObjectCreatedEvent(raw: unknown): ObjectCreatedRecord[] {
  // Sent once when a notification is configured; there is nothing to announce.
  if ((raw as { Event?: unknown } | null)?.Event === "s3:TestEvent") return [];
  const result = s3EventSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new EventContractError({
      source: "aws:s3",
      field: issue?.path.join(".") || "(event)",
      reason: issue?.message ?? "not an S3 event notification",
    });
  }
  return result.data.Records.filter((record) => record.eventName.startsWith("ObjectCreated:")).map(
    (record) => ({
      bucket: record.s3.bucket.name,
      key: decodeS3EventKey(record.s3.object.key),
      size: record.s3.object.size ?? 0,
      eventTime: record.eventTime,
      sequencer: record.s3.object.sequencer ?? record.eventTime,
    }),
  );
}

export function createUploadCompletedHandler(provide: () => UploadCompletionDeps) {
  return gantryHandler({
    name: "upload-completed",
    parse: parseObjectCreatedEvent,
    idempotency: false,
    correlationId: (raw) =>
      (raw as { Records?: { responseElements?: Record<string, string> }[] } | null)?.Records?.[0]
        ?.responseElements?.["x-amz-request-id"],
    handle: async (records) => {
      const outcomes = [];
      for (const record of records) outcomes.push(await onUploadCompleted(provide(), record));
      return outcomes;
    },
  });
}

export interface CompletedBuildOptions {
  clock?: Clock;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  s3?: S3Client;
  eventBridge?: EventBridgeClient;
  fetch?: typeof fetch;
}

export function buildUploadCompletionDeps(
  config: UploadCompletedConfig,
  options: CompletedBuildOptions = {},
): UploadCompletionDeps {
  const s3 = options.s3 ?? s3ClientFor(config.s3, options.credentials);
  const eventBridge =
    options.eventBridge ??
    new EventBridgeClient({
      region: config.s3.region,
      ...(config.eventBridgeEndpoint ? { endpoint: config.eventBridgeEndpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  const targets: Record<string, UploadWebhookTarget> = {};
  for (const [app, settings] of Object.entries(config.apps)) {
    const secret = config.webhookSecrets[app];
    if (settings.webhookUrl && secret) targets[app] = { url: settings.webhookUrl, secret };
  }
  const publisher = new UploadEventsPublisher(eventBridge, config.eventBusName);
  const webhook = new HttpUploadWebhook(targets, options.clock ?? systemClock, options.fetch);
  return {
    objects: new S3UploadedObjects(s3),
    publish: (detail) => publisher.publish(detail),
    apps: new Set(Object.keys(config.apps)),
    webhook: (app, detail) => webhook.deliver(app, detail),
  };
}

/** The handler as deployed; the environment is validated at cold start. */
export function uploadCompletedHandler(env: Readonly<Record<string, string | undefined>> = process.env) {
  const deps = buildUploadCompletionDeps(parseUploadCompletedConfig(env));
  return createUploadCompletedHandler(() => deps);
}
