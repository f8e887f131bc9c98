import { createHmac, timingSafeEqual } from "node:crypto";
import type { UploadSession, UploadSessionSealer } from "@gantry/core";
import * as z from "zod";

/**
 * Upload tokens: the session as base64url JSON plus an HMAC-SHA256 over it with a server secret
 * (`GANTRY_UPLOAD_TOKEN_KEY`). Not encrypted: the client may read its own plan, it cannot change it.
 */
const CONTEXT = "gantry-upload-session.v1.";

const sessionSchema = z
  .object({
    v: z.literal(1),
    app: z.string().min(1),
    key: z.string().min(1),
    uploadId: z.string().min(1),
    sub: z.string().min(1),
    contentType: z.string().min(1),
    size: z.number().int().min(1),
    partSize: z.number().int().min(1),
    partCount: z.number().int().min(1),
    exp: z.number().int(),
  })
  .strict();

export class HmacUploadSessions implements UploadSessionSealer {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (Buffer.byteLength(secret) < 32) throw new Error("GANTRY_UPLOAD_TOKEN_KEY must be at least 32 bytes");
    this.key = Buffer.from(secret);
  }

  seal(session: UploadSession): string {
    const payload = Buffer.from(JSON.stringify(session)).toString("base64url");
    return `${payload}.${this.mac(payload).toString("base64url")}`;
  }

  open(token: string): UploadSession | undefined {
    const [payload, mac, extra] = token.split(".");
    if (!payload || !mac || extra !== undefined) return undefined;
    const expected = this.mac(payload);
    const given = Buffer.from(mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const parsed = sessionSchema.safeParse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): Buffer {
    return createHmac("sha256", this.key)
      .update(CONTEXT + payload)
      .digest();
  }
}
