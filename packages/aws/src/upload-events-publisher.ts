import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { UPLOAD_COMPLETED_DETAIL_TYPE, UPLOAD_EVENT_SOURCE, type UploadCompletedDetail } from "@gantry/core";

/** A PutEvents entry EventBridge refused; named after its error code so the classifier can judge it. */
export class PutEventsEntryError extends Error {
  constructor(code: string | undefined, message: string | undefined) {
    super(`PutEvents refused the entry: ${code ?? "unknown"}${message ? ` (${message})` : ""}`);
    this.name = code ?? "PutEventsEntryError";
  }
}

/**
 * Puts `gantry.upload` / `Upload Completed` on the default bus. PutEvents answers 200 even when an
 * entry failed, so the entry's own result is checked.
 */
export class UploadEventsPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName = "default",
  ) {}

  async publish(detail: UploadCompletedDetail): Promise<void> {
    const output = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.eventBusName,
            Source: UPLOAD_EVENT_SOURCE,
            DetailType: UPLOAD_COMPLETED_DETAIL_TYPE,
            Resources: [`arn:aws:s3:::${detail.bucket}/${detail.key}`],
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    const entry = output.Entries?.[0];
    if ((output.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
      throw new PutEventsEntryError(entry?.ErrorCode, entry?.ErrorMessage);
    }
  }
}
