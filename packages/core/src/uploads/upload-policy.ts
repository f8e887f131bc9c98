import type { UploadPolicy } from "./upload-config.ts";
import {
  MAX_FILENAME_LENGTH,
  MAX_PARTS_PER_SIGN_REQUEST,
  MIB,
  S3_MAX_PART_BYTES,
  S3_MAX_PARTS,
} from "./upload-limits.ts";

/**
 * The rules of an upload, as pure functions: what may be uploaded, how it is cut into parts, where
 * it lands. The presign use cases apply them before any URL is signed.
 */

export type UploadErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "upload_not_found"
  | "upload_expired"
  | "too_large"
  | "unsupported_media_type"
  | "invalid_parts";

/** A request the API refuses: a decision, answered with a 4xx and `{ error, message }`. */
export interface UploadRefusal {
  error: UploadErrorCode;
  message: string;
}

export const UPLOAD_ERROR_STATUS: Record<UploadErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  upload_not_found: 404,
  upload_expired: 410,
  too_large: 413,
  unsupported_media_type: 415,
  invalid_parts: 422,
};

export type UploadResult<T> = { ok: true; value: T } | { ok: false; refusal: UploadRefusal };

export const refuse = (error: UploadErrorCode, message: string): { ok: false; refusal: UploadRefusal } => ({
  ok: false,
  refusal: { error, message },
});

export interface UploadPlan {
  contentType: string;
  size: number;
  partSize: number;
  partCount: number;
}

const BARE_MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** `Video/MP4` → `video/mp4`; parameters (`; charset=…`) and wildcards are not accepted. */
export function normaliseContentType(contentType: string): string | undefined {
  const normalised = contentType.trim().toLowerCase();
  return BARE_MEDIA_TYPE.test(normalised) ? normalised : undefined;
}

export function contentTypeAllowed(allowed: readonly string[], contentType: string): boolean {
  const [type] = contentType.split("/");
  return allowed.some((range) => range === contentType || range === `${type}/*`);
}

/**
 * Part size for `size` bytes: the policy's preferred size, raised (in whole MiB) when the file
 * would otherwise need more than S3's 10,000 parts.
 */
export function partSizeFor(size: number, preferred: number): number {
  const smallest = Math.ceil(size / S3_MAX_PARTS / MIB) * MIB;
  return Math.max(preferred, smallest);
}

export function planUpload(
  policy: UploadPolicy,
  request: { contentType: string; size: number },
): UploadResult<UploadPlan> {
  if (!Number.isSafeInteger(request.size) || request.size < 1) {
    return refuse("bad_request", "size must be a whole number of bytes, at least 1");
  }
  if (request.size > policy.maxObjectBytes) {
    return refuse(
      "too_large",
      `the file is ${request.size} bytes; uploads for ${policy.app} are limited to ${policy.maxObjectBytes} bytes`,
    );
  }
  const contentType = normaliseContentType(request.contentType);
  if (contentType === undefined) {
    return refuse("unsupported_media_type", "contentType must be a media type such as video/mp4");
  }
  if (!contentTypeAllowed(policy.contentTypes, contentType)) {
    return refuse(
      "unsupported_media_type",
      `${contentType} is not accepted; allowed: ${policy.contentTypes.join(", ")}`,
    );
  }
  const partSize = partSizeFor(request.size, policy.partBytes);
  // Unreachable with a valid policy (maxObjectBytes ≤ 10,000 × 5 GiB); a guard, not a branch to test.
  if (partSize > S3_MAX_PART_BYTES) return refuse("too_large", "the file is larger than S3 can store");
  return {
    ok: true,
    value: { contentType, size: request.size, partSize, partCount: Math.ceil(request.size / partSize) },
  };
}

/** The exact byte length of part `partNumber` (1-based): every part is full but the last. */
export function partLength(
  plan: Pick<UploadPlan, "size" | "partSize" | "partCount">,
  partNumber: number,
): number {
  return partNumber < plan.partCount ? plan.partSize : plan.size - plan.partSize * (plan.partCount - 1);
}

/**
 * A filename safe as the last segment of an S3 key and in a `Content-Disposition`: the base name
 * only, accents folded, anything outside `A-Z a-z 0-9 . _ -` replaced by `-`, no leading dots
 * (no hidden files, no `..`), at most 120 characters with the extension kept.
 */
export function sanitiseFilename(filename: string): string {
  const base = filename.split(/[/\\]/).pop() ?? "";
  let name = base
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[.-]+/, "")
    .replace(/[.-]+$/, "");
  if (name.length > MAX_FILENAME_LENGTH) {
    const dot = name.lastIndexOf(".");
    const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
    name = name.slice(0, MAX_FILENAME_LENGTH - extension.length).replace(/[.-]+$/, "") + extension;
  }
  return name === "" ? "file" : name;
}

/** `<app>/<id>/<filename>`: the server chooses every segment; the caller only suggests the name. */
export function uploadObjectKey(app: string, id: string, filename: string): string {
  return `${app}/${id}/${sanitiseFilename(filename)}`;
}

/** The app an object key belongs to, when it has the shape `uploadObjectKey` produces. */
export function appOfUploadKey(key: string): string | undefined {
  const match = /^([a-z][a-z0-9-]{0,22}[a-z0-9])\/[A-Za-z0-9_-]{8,64}\/[A-Za-z0-9._-]{1,120}$/.exec(key);
  return match?.[1];
}

/** Part numbers a sign request may ask for: within the plan, unique, at most 100 at once. */
export function checkPartNumbers(
  partCount: number,
  partNumbers: readonly number[],
): UploadRefusal | undefined {
  if (partNumbers.length === 0) return { error: "bad_request", message: "ask for at least one part" };
  if (partNumbers.length > MAX_PARTS_PER_SIGN_REQUEST) {
    return { error: "bad_request", message: `ask for at most ${MAX_PARTS_PER_SIGN_REQUEST} parts at once` };
  }
  const seen = new Set<number>();
  for (const partNumber of partNumbers) {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > partCount) {
      return { error: "invalid_parts", message: `part ${partNumber} is outside 1..${partCount}` };
    }
    if (seen.has(partNumber))
      return { error: "invalid_parts", message: `part ${partNumber} is listed twice` };
    seen.add(partNumber);
  }
  return undefined;
}

/** A complete request must name every planned part exactly once. */
export function checkCompleteParts(
  partCount: number,
  partNumbers: readonly number[],
): UploadRefusal | undefined {
  const unique = new Set(partNumbers);
  if (unique.size !== partNumbers.length)
    return { error: "invalid_parts", message: "a part is listed twice" };
  const missing: number[] = [];
  for (let partNumber = 1; partNumber <= partCount && missing.length < 10; partNumber++) {
    if (!unique.has(partNumber)) missing.push(partNumber);
  }
  if (missing.length > 0) {
    return {
      error: "invalid_parts",
      message: `parts missing: ${missing.join(", ")}${missing.length === 10 ? ", …" : ""}`,
    };
  }
  if (partNumbers.length !== partCount) {
    return { error: "invalid_parts", message: `the upload has ${partCount} parts` };
  }
  return undefined;
}
