/**
 * The EventBridge rules Gantry subscribes on the account's default bus: plain data, read by
 * `infra/events.ts` (real rules) and by the sandbox's in-process bus (same patterns, same matcher).
 * App Runner rules match on `source` + `detail-type` only, because AWS documents three spellings of
 * the detail keys (FACTS §0.6); the mappers in this package normalise them.
 */

/** The Lambda functions the rules feed; each has `functions/<name>.ts`. */
export type RuleTarget = "image-push" | "image-scan" | "apprunner-event";

export interface GantryRule {
  name: string;
  description: string;
  target: RuleTarget;
  pattern: Record<string, unknown>;
}

export const gantryRules = [
  {
    name: "ecr-image-push",
    description: "A completed image push to ECR: record release candidates",
    target: "image-push",
    pattern: {
      source: ["aws.ecr"],
      "detail-type": ["ECR Image Action"],
      detail: { "action-type": ["PUSH"], result: ["SUCCESS"] },
    },
  },
  {
    name: "ecr-basic-scan",
    description: "A basic ECR image scan finished: evaluate the gate",
    target: "image-scan",
    pattern: { source: ["aws.ecr"], "detail-type": ["ECR Image Scan"] },
  },
  {
    name: "inspector-enhanced-scan",
    description: "Inspector's initial enhanced scan of an image finished: evaluate the gate",
    target: "image-scan",
    pattern: { source: ["aws.inspector2"], "detail-type": ["Inspector2 Scan"] },
  },
  {
    name: "apprunner-operation-status",
    description: "An App Runner operation changed status: record outcomes, retry, roll back",
    target: "apprunner-event",
    pattern: { source: ["aws.apprunner"], "detail-type": ["AppRunner Service Operation Status Change"] },
  },
  {
    name: "apprunner-service-status",
    description: "An App Runner service changed status: rebuild CREATE_FAILED, resume PAUSED",
    target: "apprunner-event",
    pattern: { source: ["aws.apprunner"], "detail-type": ["AppRunner Service Status Change"] },
  },
  {
    name: "apprunner-pause-call",
    description:
      "CloudTrail's record of PauseService: who paused a service (never auto-resume a person's pause)",
    target: "apprunner-event",
    pattern: {
      source: ["aws.apprunner"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: { eventSource: ["apprunner.amazonaws.com"], eventName: ["PauseService"] },
    },
  },
] as const satisfies readonly GantryRule[];
