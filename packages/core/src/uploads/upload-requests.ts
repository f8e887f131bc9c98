import * as z from "zod";
import { MAX_PARTS_PER_SIGN_REQUEST, S3_MAX_PARTS } from "./upload-limits.ts";
import { refuse, type UploadResult } from "./upload-policy.ts";

/** The presign API's request bodies. Unknown fields are refused, so a typo is not silently ignored. */

/** What S3 expects in `x-amz-checksum-sha256`: the part's SHA-256, base64. */
const checksumSha256 = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "must be a base64 SHA-256 digest");
const partNumber = z.number().int().min(1).max(S3_MAX_PARTS);
const token = z.string().min(16).max(4096);

export const startUploadRequest = z
  .object({
    filename: z.string().min(1).max(1024),
    contentType: z.string().min(1).max(255),
    size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();

export const signPartsRequest = z
  .object({
    token,
    parts: z.array(z.object({ partNumber, checksumSha256 }).strict()).min(1).max(MAX_PARTS_PER_SIGN_REQUEST),
  })
  .strict();

export const uploadTokenRequest = z.object({ token }).strict();

export const completeUploadRequest = z
  .object({
    token,
    parts: z
      .array(z.object({ partNumber, etag: z.string().min(1).max(128), checksumSha256 }).strict())
      .min(1)
      .max(S3_MAX_PARTS),
  })
  .strict();

export type StartUploadRequest = z.infer<typeof startUploadRequest>;
export type SignPartsRequest = z.infer<typeof signPartsRequest>;
export type UploadTokenRequest = z.infer<typeof uploadTokenRequest>;
export type CompleteUploadRequest = z.infer<typeof completeUploadRequest>;

/** Validates a parsed JSON body; the refusal names the first offending field. */
export function parseUploadRequest<T>(schema: z.ZodType<T>, body: unknown): UploadResult<T> {
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join(".") : "body";
  return refuse("bad_request", `${field}: ${issue?.message ?? "invalid"}`);
}
