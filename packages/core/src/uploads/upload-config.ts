import * as z from "zod";
import { MIB, S3_MAX_MULTIPART_BYTES, S3_MAX_PART_BYTES, S3_MIN_PART_BYTES } from "./upload-limits.ts";

/**
 * Large uploads: which apps may upload, what, how big, from where, and who they tell.
 * The platform team keeps this in `uploads.config.json` (see the README, "Large uploads"); the infra
 * validates it at deploy time and hands each app's presign function its own `UploadPolicy`, which
 * the function validates again at cold start.
 */

/** Becomes the key prefix and part of resource names: short, lowercase, DNS-safe. */
export const UPLOAD_APP_NAME = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;
const APP_NAME_RULE = "app names are 2-24 of a-z, 0-9 and '-', starting with a letter";

/** `type/subtype` in lowercase RFC 6838 token characters, or `type/*`. */
const MEDIA_RANGE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;

const APP_RUNNER_SERVICE_ARN =
  /^arn:aws[a-z-]*:apprunner:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:service\/[A-Za-z0-9][A-Za-z0-9_-]{3,39}\/[0-9a-f]{32}$/;
/** The service's default domain, e.g. `abcd1234.us-east-1.awsapprunner.com` (no scheme, no path). */
const APP_RUNNER_HOST = /^[a-z0-9-]+\.[a-z]{2}(-[a-z]+)+-\d+\.awsapprunner\.com$/;

export const JWT_ALGORITHMS = ["RS256", "ES256", "EdDSA", "HS256"] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const uploadAuthSchema = z
  .object({
    /** Required `iss` claim. */
    issuer: z.string().min(1),
    /** Required in the `aud` claim. */
    audience: z.string().min(1),
    /** Accepted `alg` values; the key (an SST secret) must fit them. Never `none`. */
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  })
  .strict();

export type UploadAuthConfig = z.infer<typeof uploadAuthSchema>;

const policyFields = {
  /** Allowed media types; `image/*` allows every image type. */
  contentTypes: z
    .array(z.string().regex(MEDIA_RANGE, "must be a lowercase media type such as video/mp4 or image/*"))
    .min(1),
  maxObjectBytes: z.number().int().min(1).max(S3_MAX_MULTIPART_BYTES),
  /** Preferred part size; raised automatically when a file would need more than 10,000 parts. */
  partBytes: z
    .number()
    .int()
    .min(S3_MIN_PART_BYTES, "must be at least 5 MiB (S3's minimum part size)")
    .max(S3_MAX_PART_BYTES, "must be at most 5 GiB (S3's maximum part size)")
    .default(16 * MIB),
  /** Lifetime of each presigned part URL. */
  urlExpirySeconds: z.number().int().min(60).max(3600).default(300),
  /** How long an upload may take, resumes included; the bucket aborts older incomplete uploads. */
  sessionHours: z
    .number()
    .int()
    .min(1)
    .max(7 * 24)
    .default(24),
};

export const uploadPolicySchema = z
  .object({ app: z.string().regex(UPLOAD_APP_NAME, APP_NAME_RULE), ...policyFields })
  .strict();

/** What one app's presign function enforces. */
export type UploadPolicy = z.infer<typeof uploadPolicySchema>;

const uploadAppSchema = z
  .object({
    ...policyFields,
    /** The managed App Runner service the app runs on: CloudFront's default origin. */
    appRunner: z
      .object({
        serviceArn: z.string().regex(APP_RUNNER_SERVICE_ARN, "must be an App Runner service ARN"),
        serviceUrl: z.string().regex(APP_RUNNER_HOST, "must be the service's awsapprunner.com host name"),
      })
      .strict(),
    /** Browser origins allowed to PUT parts to the bucket (CORS), e.g. `https://shop.example.com`. */
    origins: z
      .array(
        z
          .url({ protocol: /^https?$/ })
          .refine((url) => new URL(url).origin === url, "must be an origin: scheme://host[:port], no path"),
      )
      .min(1),
    auth: uploadAuthSchema,
    /** Completed uploads are also POSTed here, signed (README, "Large uploads"). */
    webhook: z
      .object({ url: z.url({ protocol: /^https$/, error: "must be an https URL" }) })
      .strict()
      .optional(),
    /** Delete uploaded objects this many days after creation; kept forever when unset. */
    expireObjectsAfterDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();

export type UploadAppConfig = z.infer<typeof uploadAppSchema>;

export const uploadsConfigSchema = z
  .object({
    apps: z.record(z.string().regex(UPLOAD_APP_NAME, APP_NAME_RULE), uploadAppSchema).default({}),
  })
  .strict();

export type UploadsConfig = z.infer<typeof uploadsConfigSchema>;

export class UploadsConfigError extends Error {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`${source} is invalid: ${problems.join("; ")}`);
    this.name = "UploadsConfigError";
    this.problems = problems;
  }
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    // zod reports a bad record key generically; say what an app name must be.
    const message = issue.code === "invalid_key" ? APP_NAME_RULE : issue.message;
    return `${issue.path.join(".") || "(root)"}: ${message}`;
  });
}

/** Validates the uploads config file's content; every problem is named with its path. */
export function parseUploadsConfig(input: unknown, source = "uploads config"): UploadsConfig {
  const result = uploadsConfigSchema.safeParse(input);
  if (!result.success) throw new UploadsConfigError(source, problemsOf(result.error));
  return result.data;
}

export function parseUploadPolicy(input: unknown, source = "upload policy"): UploadPolicy {
  const result = uploadPolicySchema.safeParse(input);
  if (!result.success) throw new UploadsConfigError(source, problemsOf(result.error));
  return result.data;
}

/** The part of an app's config its presign function enforces. */
export function uploadPolicyOf(app: string, config: UploadAppConfig): UploadPolicy {
  return {
    app,
    contentTypes: config.contentTypes,
    maxObjectBytes: config.maxObjectBytes,
    partBytes: config.partBytes,
    urlExpirySeconds: config.urlExpirySeconds,
    sessionHours: config.sessionHours,
  };
}

/** Every object of an app lives under this prefix. */
export function uploadKeyPrefix(app: string): string {
  return `${app}/`;
}
