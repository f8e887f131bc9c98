import semver from "semver";
import * as z from "zod";
import type { Severity } from "./domain-events.ts";

/**
 * `gantry.config.ts`: the one file a platform team edits. Validated with zod at deploy time
 * (`sst.config.ts` imports it), by `gantry config check`, and once per cold start.
 */

// AWS tag values allow letters, digits, spaces and `+ - = . _ : / @` (DESIGN.md): policy names must fit.
const tagValue = /^[\p{L}\p{N} +\-=._:/@]+$/u;

const severityLimit = z.number().int().min(0);

const cveException = z.object({
  id: z.string().min(1, "an exception needs the finding id (e.g. CVE-2024-1234)"),
  owner: z.string().min(1, "an exception needs an owner"),
  reason: z.string().min(1, "an exception needs a reason"),
  expiresAt: z.iso.datetime({ offset: true }).or(z.iso.date()),
});

const follow = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("current-tag") }),
  z.object({ kind: z.literal("exact"), tag: z.string().min(1) }),
  z.object({
    kind: z.literal("semver"),
    range: z.string().refine((range) => semver.validRange(range) !== null, "not a valid semver range"),
  }),
  z.object({
    kind: z.literal("pattern"),
    pattern: z.string().refine(isValidRegExp, "not a valid regular expression"),
  }),
]);

const retry = z.object({
  maxAttempts: z.number().int().min(1).max(10).default(3),
  baseDelaySeconds: z.number().int().min(1).max(3600).default(30),
  maxDelaySeconds: z.number().int().min(1).max(86_400).default(900),
  /** UpdateService refused transiently (throttled, 5xx) this many times: give up. Separate from maxAttempts. */
  maxApiErrors: z.number().int().min(1).max(50).default(10),
});

/** A policy's retry settings when the config names none (each field's default above). */
export const DEFAULT_RETRY: Readonly<z.infer<typeof retry>> = Object.freeze(retry.parse({}));

const policy = z.object({
  mode: z.enum(["enforce", "audit"]).default("enforce"),
  follow: follow.default({ kind: "current-tag" }),
  maxFindings: z
    .object({
      CRITICAL: severityLimit.optional(),
      HIGH: severityLimit.optional(),
      MEDIUM: severityLimit.optional(),
      LOW: severityLimit.optional(),
    })
    .strict()
    .default({ CRITICAL: 0 }),
  exceptions: z.array(cveException).default([]),
  scanTimeoutMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  autoResume: z.boolean().default(false),
  /**
   * A scan older than this is not deployed on as it is: the gate asks ECR for a newer result first
   * (a digest promoted rc → prod weeks after its scan), and blocks when there is none.
   */
  maxScanAgeDays: z.number().int().min(1).max(365).default(30),
  retry: retry.default(DEFAULT_RETRY),
  /**
   * A CREATE_FAILED service that a rebuild cannot fix is deleted and created again: new ARN, new
   * App Runner URL. Custom domains and a private (VPC ingress) endpoint do not come along, so such a
   * service is left for a person unless allowed here. Optional: absent, both are refused.
   */
  recreate: z
    .object({
      allowWithCustomDomains: z.boolean().default(false),
      allowWithPrivateIngress: z.boolean().default(false),
    })
    .strict()
    .optional(),
});

export const gantryConfigSchema = z
  .object({
    defaultPolicy: z.string().regex(tagValue, "policy names must be valid AWS tag values").default("default"),
    policies: z
      .record(z.string(), policy)
      .superRefine((policies, context) => {
        for (const name of Object.keys(policies)) {
          if (!tagValue.test(name)) {
            context.addIssue({
              code: "custom",
              path: [name],
              message: `"${name}": policy names must be valid AWS tag values`,
            });
          }
        }
      })
      .default({}),
    /** Switch App Runner auto-deploy off when a managed service has it on (it bypasses the gate). */
    fixAutoDeployDrift: z.boolean().default(true),
    /**
     * Callers whose PauseService `autoResume` may undo: ARN patterns with `*`, e.g.
     * `arn:aws:sts::*:assumed-role/nightly-scaler/*`. Any other caller counts as a person.
     */
    automationPrincipals: z
      .array(z.string().regex(/^arn:[^:\s]*:(iam|sts)::[^\s]*$/, "an IAM or STS ARN pattern (`*` allowed)"))
      .default([]),
  })
  .strict()
  .transform((config) => ({
    ...config,
    // The documented default policy exists unless the team defines its own under that name.
    policies: { default: policy.parse({}), ...config.policies } as Record<string, z.output<typeof policy>>,
  }))
  .refine((config) => config.defaultPolicy in config.policies, {
    message: "defaultPolicy names a policy that is not defined",
    path: ["defaultPolicy"],
  });

export type GantryConfigInput = z.input<typeof gantryConfigSchema>;
export type GantryConfig = z.output<typeof gantryConfigSchema>;
export type GatePolicy = z.output<typeof policy>;
export type CveException = z.output<typeof cveException>;
export type TagFollow = z.output<typeof follow>;
export type GatedSeverity = Extract<Severity, "CRITICAL" | "HIGH" | "MEDIUM" | "LOW">;

/** Typed helper for `gantry.config.ts`; validation happens where the config is loaded. */
export function defineConfig(config: GantryConfigInput): GantryConfigInput {
  return config;
}

export class GantryConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Gantry config:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "GantryConfigError";
  }
}

export function parseGantryConfig(input: unknown): GantryConfig {
  const result = gantryConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new GantryConfigError(
    result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`),
  );
}

/** A stable short fingerprint of a policy, recorded with each decision ("which rules said so"). */
export function policyVersion(value: GatePolicy): string {
  const text = stableStringify(value);
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function isValidRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
