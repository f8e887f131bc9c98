import {
  parseUploadPolicy,
  UPLOAD_APP_NAME,
  type UploadAuthConfig,
  type UploadPolicy,
  uploadAuthSchema,
} from "@gantry/core";
import * as z from "zod";
import { type Env, RuntimeConfigError } from "../runtime-config.ts";

/**
 * The environment of the two upload functions, validated once at cold start. Problems name the
 * variable, never its value: three of them are secrets.
 */

export interface S3Location {
  region: string;
  /** Set only against s3rver (tests, sandbox); Lambda uses the regional endpoint. */
  endpoint?: string;
  forcePathStyle: boolean;
}

export interface UploadPresignConfig {
  bucket: string;
  policy: UploadPolicy;
  auth: UploadAuthConfig;
  /** Secret: the JWT verification key (PEM/JWK public key, or the HS256 secret). */
  authKey: string;
  /** Secret: seals upload tokens. */
  tokenKey: string;
  s3: S3Location;
}

export interface UploadCompletedConfig {
  /** Apps whose prefixes are announced; each may have a webhook. */
  apps: Record<string, { webhookUrl?: string }>;
  /** Secret: the webhook signing secret per app that has a webhook. */
  webhookSecrets: Record<string, string>;
  eventBusName: string;
  s3: S3Location;
  eventBridgeEndpoint?: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const blankAsMissing = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const required = (pattern: RegExp, expectation: string) =>
  z.preprocess(
    blankAsMissing,
    z
      .string({ error: (issue) => (issue.input === undefined ? "is required" : `must be ${expectation}`) })
      .regex(pattern, `must be ${expectation}`),
  );

const secret = (minBytes: number) =>
  z.preprocess(
    blankAsMissing,
    z
      .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
      .refine((value) => Buffer.byteLength(value) >= minBytes, `must be at least ${minBytes} bytes`),
  );

/** A JSON-valued variable: parse errors are reported as the variable's problem, not thrown. */
const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, context) => {
    const present = blankAsMissing(value);
    if (typeof present !== "string") return present;
    try {
      return JSON.parse(present);
    } catch {
      context.addIssue({ code: "custom", message: "must be JSON" });
      return z.NEVER;
    }
  }, schema);

const s3Fields = {
  AWS_REGION: required(AWS_REGION, "an AWS region such as us-east-1"),
  GANTRY_S3_ENDPOINT: z.preprocess(blankAsMissing, z.url({ protocol: /^https?$/ }).optional()),
  GANTRY_S3_FORCE_PATH_STYLE: z.preprocess(blankAsMissing, z.enum(["true", "false"]).default("false")),
};

const presignSchema = z.object({
  ...s3Fields,
  GANTRY_UPLOAD_BUCKET: required(BUCKET_NAME, "an S3 bucket name"),
  GANTRY_UPLOAD_POLICY: json(z.unknown().refine((value) => value !== undefined, "is required")),
  GANTRY_UPLOAD_AUTH: json(uploadAuthSchema),
  GANTRY_UPLOAD_AUTH_KEY: secret(1),
  GANTRY_UPLOAD_TOKEN_KEY: secret(32),
});

const completedSchema = z.object({
  ...s3Fields,
  GANTRY_UPLOAD_APPS: json(
    z.record(
      z.string().regex(UPLOAD_APP_NAME),
      z.object({ webhookUrl: z.url({ protocol: /^https?$/ }).optional() }).strict(),
    ),
  ),
  GANTRY_UPLOAD_WEBHOOK_SECRETS: json(z.record(z.string(), z.string().min(32)).default({})),
  GANTRY_EVENT_BUS: z.preprocess(blankAsMissing, z.string().min(1).default("default")),
  GANTRY_EVENTBRIDGE_ENDPOINT: z.preprocess(blankAsMissing, z.url({ protocol: /^https?$/ }).optional()),
});

function problems(error: z.ZodError): string[] {
  return [
    ...new Set(
      error.issues.map((issue) => {
        const [variable, ...rest] = issue.path.map(String);
        const where = rest.length > 0 ? `${variable} (${rest.join(".")})` : (variable ?? "(environment)");
        const message = /^(is|must) /.test(issue.message) ? issue.message : "is invalid";
        return `${where} ${message}`;
      }),
    ),
  ];
}

function s3Location(vars: z.infer<z.ZodObject<typeof s3Fields>>): S3Location {
  return {
    region: vars.AWS_REGION,
    ...(vars.GANTRY_S3_ENDPOINT ? { endpoint: vars.GANTRY_S3_ENDPOINT } : {}),
    forcePathStyle: vars.GANTRY_S3_FORCE_PATH_STYLE === "true",
  };
}

export function parseUploadPresignConfig(env: Env): UploadPresignConfig {
  const result = presignSchema.safeParse(env);
  if (!result.success) throw new RuntimeConfigError(problems(result.error));
  const vars = result.data;
  let policy: UploadPolicy;
  try {
    policy = parseUploadPolicy(vars.GANTRY_UPLOAD_POLICY, "GANTRY_UPLOAD_POLICY");
  } catch (error) {
    throw new RuntimeConfigError([(error as Error).message]);
  }
  return {
    bucket: vars.GANTRY_UPLOAD_BUCKET,
    policy,
    auth: vars.GANTRY_UPLOAD_AUTH,
    authKey: vars.GANTRY_UPLOAD_AUTH_KEY,
    tokenKey: vars.GANTRY_UPLOAD_TOKEN_KEY,
    s3: s3Location(vars),
  };
}

export function parseUploadCompletedConfig(env: Env): UploadCompletedConfig {
  const result = completedSchema.safeParse(env);
  if (!result.success) throw new RuntimeConfigError(problems(result.error));
  const vars = result.data;
  const missing = Object.entries(vars.GANTRY_UPLOAD_APPS)
    .filter(
      ([app, settings]) => settings.webhookUrl !== undefined && !vars.GANTRY_UPLOAD_WEBHOOK_SECRETS[app],
    )
    .map(([app]) => `GANTRY_UPLOAD_WEBHOOK_SECRETS (${app}) is required: ${app} has a webhook`);
  if (missing.length > 0) throw new RuntimeConfigError(missing);
  return {
    apps: vars.GANTRY_UPLOAD_APPS,
    webhookSecrets: vars.GANTRY_UPLOAD_WEBHOOK_SECRETS,
    eventBusName: vars.GANTRY_EVENT_BUS,
    s3: s3Location(vars),
    ...(vars.GANTRY_EVENTBRIDGE_ENDPOINT ? { eventBridgeEndpoint: vars.GANTRY_EVENTBRIDGE_ENDPOINT } : {}),
  };
}
