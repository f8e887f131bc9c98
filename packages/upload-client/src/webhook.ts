import { hmacSha256Verify } from "./digest.ts";

/**
 * Verifies Gantry's upload webhook on the app's side (Node 20, Deno, workers, browsers):
 * `x-gantry-signature: v1=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body)>` and
 * `x-gantry-request-timestamp: <unix seconds>`. Use the raw body as received, before any JSON
 * parsing; requests older than `toleranceSeconds` are refused (replays).
 */
export async function verifyUploadWebhook(input: {
  secret: string;
  body: string;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  /** Defaults to the current time. */
  now?: Date;
  toleranceSeconds?: number;
}): Promise<boolean> {
  const { timestamp, signature } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !signature) return false;
  const age = Math.abs((input.now ?? new Date()).getTime() / 1000 - Number(timestamp));
  if (age > (input.toleranceSeconds ?? 300)) return false;
  const hex = /^v1=([0-9a-f]{64})$/.exec(signature)?.[1];
  if (hex === undefined) return false;
  const bytes = new Uint8Array(32);
  for (let index = 0; index < 32; index++)
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return hmacSha256Verify(input.secret, `v1:${timestamp}:${input.body}`, bytes);
}
