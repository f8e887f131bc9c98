import type { AppRunnerPauseCalled } from "@gantry/core";
import * as z from "zod";
import { envelope, validate } from "./aws-event-mappers.ts";
import { appRunnerServiceArnSchema } from "./aws-event-schemas.ts";

/**
 * `AWS API Call via CloudTrail` for App Runner's PauseService: the only place that says who paused
 * a service. Gantry needs the caller's identity type and ARN, nothing else from the record.
 */
export const appRunnerPauseCallSchema = z.object({
  id: z.string(),
  source: z.literal("aws.apprunner"),
  "detail-type": z.literal("AWS API Call via CloudTrail"),
  account: z.string(),
  region: z.string(),
  time: z.string(),
  detail: z.object({
    eventSource: z.literal("apprunner.amazonaws.com"),
    eventName: z.literal("PauseService"),
    userIdentity: z.object({
      type: z.string(),
      arn: z.string().optional(),
      principalId: z.string().optional(),
      invokedBy: z.string().optional(),
    }),
    requestParameters: z.object({ serviceArn: appRunnerServiceArnSchema }),
    errorCode: z.string().optional(),
  }),
});

/**
 * People pause from the console or CLI as IAM users, root, or IAM Identity Center (SSO) sessions;
 * automation runs as other assumed roles or through an AWS service.
 */
export function isPerson(identity: {
  type: string;
  arn?: string | undefined;
  invokedBy?: string | undefined;
}): boolean {
  if (identity.invokedBy) return false;
  if (identity.type === "IAMUser" || identity.type === "Root") return true;
  return identity.type === "AssumedRole" && /:assumed-role\/AWSReservedSSO_/.test(identity.arn ?? "");
}

export function parseAppRunnerPauseCall(raw: unknown): AppRunnerPauseCalled {
  const event = validate(appRunnerPauseCallSchema, raw);
  const identity = event.detail.userIdentity;
  return {
    kind: "apprunner-pause-called",
    ...envelope(event),
    serviceArn: event.detail.requestParameters.serviceArn,
    actor: identity.arn ?? identity.principalId ?? identity.type,
    person: isPerson(identity),
  };
}
