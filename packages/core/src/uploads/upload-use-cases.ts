import type { Clock } from "../clock.ts";
import type { UploadPolicy } from "./upload-config.ts";
import { type UploadCompletedDetail, uploadCompletedDetail } from "./upload-events.ts";
import {
  appOfUploadKey,
  checkCompleteParts,
  checkPartNumbers,
  partLength,
  planUpload,
  refuse,
  sanitiseFilename,
  type UploadResult,
  uploadObjectKey,
} from "./upload-policy.ts";
import type {
  Caller,
  MultipartUploadStore,
  StoredPart,
  UploadedObjectsPort,
  UploadIdGenerator,
  UploadSession,
  UploadSessionSealer,
} from "./upload-ports.ts";
import type {
  CompleteUploadRequest,
  SignPartsRequest,
  StartUploadRequest,
  UploadTokenRequest,
} from "./upload-requests.ts";

/**
 * The presign API's use cases. Every refusal is decided here, before the store is asked to do
 * anything: a request that is too big, of a disallowed type, outside its plan or not the caller's
 * never gets a URL.
 */

export interface UploadDeps {
  policy: UploadPolicy;
  store: MultipartUploadStore;
  sessions: UploadSessionSealer;
  ids: UploadIdGenerator;
  clock: Clock;
}

export interface StartedUpload {
  key: string;
  uploadId: string;
  /** Send it back with every later call; it carries the plan and binds the upload to the caller. */
  token: string;
  contentType: string;
  size: number;
  partSize: number;
  partCount: number;
  /** The session's end: the upload must be completed by then. */
  expiresAt: string;
}

export interface SignedPart {
  partNumber: number;
  url: string;
  method: "PUT";
  /** Headers the PUT must carry exactly: they are part of the signature. */
  headers: Record<string, string>;
  /** The body's exact length (signed as Content-Length). */
  size: number;
}

export interface SignedParts {
  parts: SignedPart[];
  /** When these URLs stop working. */
  expiresAt: string;
}

export interface CompletedUpload {
  key: string;
  size: number;
  contentType: string;
  etag: string;
  checksumSha256?: string;
}

const ok = <T>(value: T): UploadResult<T> => ({ ok: true, value });
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

export async function startUpload(
  deps: UploadDeps,
  caller: Caller,
  request: StartUploadRequest,
): Promise<UploadResult<StartedUpload>> {
  const planned = planUpload(deps.policy, request);
  if (!planned.ok) return planned;
  const plan = planned.value;
  const key = uploadObjectKey(deps.policy.app, deps.ids.newId(), request.filename);
  const { uploadId } = await deps.store.create({
    key,
    contentType: plan.contentType,
    filename: sanitiseFilename(request.filename),
    subject: caller.subject,
  });
  const exp = seconds(deps.clock.now()) + deps.policy.sessionHours * 3600;
  const session: UploadSession = {
    v: 1,
    app: deps.policy.app,
    key,
    uploadId,
    sub: caller.subject,
    ...plan,
    exp,
  };
  return ok({
    key,
    uploadId,
    token: deps.sessions.seal(session),
    ...plan,
    expiresAt: new Date(exp * 1000).toISOString(),
  });
}

/** The sealed session, if it is genuine, this app's, this caller's and (unless aborting) still open. */
function openSession(
  deps: UploadDeps,
  caller: Caller,
  token: string,
  options: { allowExpired?: boolean } = {},
): UploadResult<UploadSession> {
  const session = deps.sessions.open(token);
  if (session === undefined || session.app !== deps.policy.app) {
    return refuse("forbidden", "the upload token is not valid here");
  }
  if (session.sub !== caller.subject) return refuse("forbidden", "this upload was started by another caller");
  if (!options.allowExpired && session.exp <= seconds(deps.clock.now())) {
    return refuse("upload_expired", "the upload session has expired; start a new upload");
  }
  return ok(session);
}

export async function signUploadParts(
  deps: UploadDeps,
  caller: Caller,
  request: SignPartsRequest,
): Promise<UploadResult<SignedParts>> {
  const opened = openSession(deps, caller, request.token);
  if (!opened.ok) return opened;
  const session = opened.value;
  const invalid = checkPartNumbers(
    session.partCount,
    request.parts.map((part) => part.partNumber),
  );
  if (invalid) return { ok: false, refusal: invalid };
  const signedAt = deps.clock.now();
  const expiresInSeconds = deps.policy.urlExpirySeconds;
  const parts = await Promise.all(
    request.parts.map(async ({ partNumber, checksumSha256 }): Promise<SignedPart> => {
      const size = partLength(session, partNumber);
      const url = await deps.store.presignPart({
        key: session.key,
        uploadId: session.uploadId,
        partNumber,
        contentLength: size,
        checksumSha256,
        expiresInSeconds,
        signedAt,
      });
      return { partNumber, url, method: "PUT", headers: { "x-amz-checksum-sha256": checksumSha256 }, size };
    }),
  );
  return ok({ parts, expiresAt: new Date(signedAt.getTime() + expiresInSeconds * 1000).toISOString() });
}

/** What S3 already holds, for resuming: only parts of the planned size count as done. */
export async function listUploadParts(
  deps: UploadDeps,
  caller: Caller,
  request: UploadTokenRequest,
): Promise<UploadResult<{ parts: StoredPart[] }>> {
  const opened = openSession(deps, caller, request.token);
  if (!opened.ok) return opened;
  const session = opened.value;
  const stored = await deps.store.listParts({ key: session.key, uploadId: session.uploadId });
  if (stored === undefined) return refuse("upload_not_found", "the upload no longer exists; start a new one");
  const parts = stored
    .filter(
      (part) => part.partNumber <= session.partCount && part.size === partLength(session, part.partNumber),
    )
    .sort((a, b) => a.partNumber - b.partNumber);
  return ok({ parts });
}

export async function completeUpload(
  deps: UploadDeps,
  caller: Caller,
  request: CompleteUploadRequest,
): Promise<UploadResult<CompletedUpload>> {
  const opened = openSession(deps, caller, request.token);
  if (!opened.ok) return opened;
  const session = opened.value;
  const invalid = checkCompleteParts(
    session.partCount,
    request.parts.map((part) => part.partNumber),
  );
  if (invalid) return { ok: false, refusal: invalid };
  const parts = [...request.parts]
    .sort((a, b) => a.partNumber - b.partNumber)
    .map((part) => ({ ...part, etag: part.etag.replaceAll('"', "") }));
  const outcome = await deps.store.complete({ key: session.key, uploadId: session.uploadId, parts });
  if (outcome.kind === "gone") {
    return refuse("upload_not_found", "the upload no longer exists (completed, aborted or expired)");
  }
  if (outcome.kind === "rejected") return refuse("invalid_parts", `S3 refused the parts: ${outcome.reason}`);
  return ok({
    key: session.key,
    size: session.size,
    contentType: session.contentType,
    etag: outcome.etag,
    ...(outcome.checksumSha256 ? { checksumSha256: outcome.checksumSha256 } : {}),
  });
}

/** Allowed after the session expired too: cleaning up is always welcome. */
export async function abortUpload(
  deps: UploadDeps,
  caller: Caller,
  request: UploadTokenRequest,
): Promise<UploadResult<{ aborted: true }>> {
  const opened = openSession(deps, caller, request.token, { allowExpired: true });
  if (!opened.ok) return opened;
  await deps.store.abort({ key: opened.value.key, uploadId: opened.value.uploadId });
  return ok({ aborted: true });
}

// --- completion -------------------------------------------------------------------------------

export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number;
  eventTime: string;
  sequencer: string;
}

export interface UploadCompletionDeps {
  objects: UploadedObjectsPort;
  publish(detail: UploadCompletedDetail): Promise<void>;
  /** Apps Gantry serves; objects of other prefixes are ignored. */
  apps: ReadonlySet<string>;
  /** Delivers the signed webhook of apps that configured one. */
  webhook(app: string, detail: UploadCompletedDetail): Promise<"sent" | "not-configured">;
}

export type UploadCompletionOutcome =
  | { status: "announced"; app: string; key: string; webhook: "sent" | "not-configured" }
  | { status: "ignored"; key: string; reason: string };

/** An object landed: read what S3 stored and tell the bus, then the app's webhook. */
export async function onUploadCompleted(
  deps: UploadCompletionDeps,
  created: ObjectCreated,
): Promise<UploadCompletionOutcome> {
  const app = appOfUploadKey(created.key);
  if (app === undefined || !deps.apps.has(app)) {
    return { status: "ignored", key: created.key, reason: "not under an upload app's prefix" };
  }
  const object = await deps.objects.describe(created.bucket, created.key);
  if (object === undefined) return { status: "ignored", key: created.key, reason: "the object is gone" };
  const detail = uploadCompletedDetail({
    app,
    bucket: created.bucket,
    key: created.key,
    object,
    completedAt: created.eventTime,
    sequencer: created.sequencer,
  });
  await deps.publish(detail);
  return { status: "announced", app, key: created.key, webhook: await deps.webhook(app, detail) };
}
