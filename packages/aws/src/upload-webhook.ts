import { createHmac } from "node:crypto";
import type { Clock, UploadCompletedDetail } from "@gantry/core";

/**
 * The signed webhook an app may receive for each completed upload. Signed like Slack signs its
 * requests (FACTS §5): `v1=` + hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body), with
 * the timestamp (seconds) in its own header. The receiver recomputes it over the raw body, compares
 * in constant time and refuses timestamps older than five minutes (README, "Large uploads").
 */
export const WEBHOOK_SIGNATURE_HEADER = "x-gantry-signature";
export const WEBHOOK_TIMESTAMP_HEADER = "x-gantry-request-timestamp";
export const WEBHOOK_VERSION = "v1";

export function signUploadWebhook(secret: string, timestamp: number, body: string): string {
  const digest = createHmac("sha256", secret).update(`${WEBHOOK_VERSION}:${timestamp}:${body}`).digest("hex");
  return `${WEBHOOK_VERSION}=${digest}`;
}

export interface UploadWebhookTarget {
  url: string;
  secret: string;
}

/** A webhook answer other than 2xx. Shaped like an SDK error so the error classifier can judge it. */
export class WebhookDeliveryError extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: { httpStatusCode: number };

  constructor(app: string, status: number) {
    super(`the ${app} upload webhook answered HTTP ${status}`);
    this.name = status >= 500 || status === 429 ? "WebhookServerError" : "WebhookClientError";
    this.$fault = status >= 500 || status === 429 ? "server" : "client";
    this.$metadata = { httpStatusCode: status };
  }
}

const TIMEOUT_MS = 10_000;

export class HttpUploadWebhook {
  constructor(
    private readonly targets: Readonly<Record<string, UploadWebhookTarget>>,
    private readonly clock: Clock,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async deliver(app: string, detail: UploadCompletedDetail): Promise<"sent" | "not-configured"> {
    const target = this.targets[app];
    if (target === undefined) return "not-configured";
    const body = JSON.stringify({ type: "upload.completed", detail });
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const response = await this.fetchImpl(target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "gantry-uploads",
        [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
        [WEBHOOK_SIGNATURE_HEADER]: signUploadWebhook(target.secret, timestamp, body),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // The body is not needed; drain it so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new WebhookDeliveryError(app, response.status);
    return "sent";
  }
}
