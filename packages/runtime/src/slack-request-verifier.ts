/**
 * Is a request really from Slack, and new? Slack signs interactivity requests with the app's
 * signing secret (FACTS §5): `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + timestamp +
 * ":" + raw body)>`. Checked over the raw body, in constant time, within 5 minutes of
 * `X-Slack-Request-Timestamp`; a signature seen before is a replay and refused too.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "@gantry/core";

export const SLACK_SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export type SlackRequestRejection = "not-configured" | "unsigned" | "stale" | "bad-signature" | "replayed";

export type SlackVerification = { ok: true } | { ok: false; reason: SlackRequestRejection };

export interface SlackVerifierDeps {
  signingSecret: string | undefined;
  clock: Clock;
  /** True the first time a nonce is claimed (the thread store's `claimNonce`). */
  claimNonce(nonce: string, expiresAt: Date): Promise<boolean>;
}

export async function verifySlackRequest(
  deps: SlackVerifierDeps,
  request: { headers: Readonly<Record<string, string | undefined>>; rawBody: string },
): Promise<SlackVerification> {
  if (!deps.signingSecret) return { ok: false, reason: "not-configured" };
  const timestamp = request.headers["x-slack-request-timestamp"];
  const signature = request.headers["x-slack-signature"];
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "unsigned" };

  const now = Math.floor(deps.clock.now().getTime() / 1000);
  if (Math.abs(now - Number(timestamp)) > SLACK_SIGNATURE_TOLERANCE_SECONDS)
    return { ok: false, reason: "stale" };

  const expected = slackSignature(deps.signingSecret, timestamp, request.rawBody);
  // Hashing both sides first makes the comparison constant-time whatever the given length.
  if (!timingSafeEqual(sha256(expected), sha256(signature))) return { ok: false, reason: "bad-signature" };

  // Only a genuine request may spend a nonce; it is remembered past the window it could be replayed in.
  const expiresAt = new Date((Number(timestamp) + SLACK_SIGNATURE_TOLERANCE_SECONDS + 60) * 1000);
  const fresh = await deps.claimNonce(sha256(signature).toString("hex"), expiresAt);
  return fresh ? { ok: true } : { ok: false, reason: "replayed" };
}

/** `v0=<hex>` for a timestamp and raw body: what Slack sends, and what the sandbox signs with. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
