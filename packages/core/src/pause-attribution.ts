import type { GantryConfig } from "./gantry-config.ts";

/** The caller of PauseService, as CloudTrail records it (`detail.userIdentity`). */
export interface PauserIdentity {
  /** CloudTrail's identity type: IAMUser, Root, AssumedRole, FederatedUser, AWSService, … */
  type: string;
  arn?: string;
  /** The AWS service that made the call on the principal's behalf, when one did. */
  invokedBy?: string;
}

/**
 * Gantry undoes a pause only when automation made it. Automation is what the team declares in
 * `automationPrincipals` (caller ARN patterns), plus AWS services acting on their own
 * (`AWSService`). Everyone else counts as a person: IAM users, root, IAM Identity Center sessions,
 * and federated console sessions, which CloudTrail also records as assumed roles
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html),
 * so an undeclared role cannot be told apart from a person and is left alone.
 */
export function classifyPauser(config: GantryConfig, identity: PauserIdentity): "person" | "automation" {
  if (identity.type === "AWSService") return "automation";
  const arn = identity.arn ?? "";
  return config.automationPrincipals.some((pattern) => arnPattern(pattern).test(arn))
    ? "automation"
    : "person";
}

const patterns = new Map<string, RegExp>();

/** `*` matches any run of characters, everything else itself (like IAM's ARN wildcards). */
function arnPattern(pattern: string): RegExp {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    const source = pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    compiled = new RegExp(`^${source.join(".*")}$`);
    patterns.set(pattern, compiled);
  }
  return compiled;
}
