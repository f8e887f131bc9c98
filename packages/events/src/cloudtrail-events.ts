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

export function parseAppRunnerPauseCall(raw: unknown): AppRunnerPauseCalled {
  const event = validate(appRunnerPauseCallSchema, raw);
  const identity = event.detail.userIdentity;
  return {
    kind: "apprunner-pause-called",
    ...envelope(event),
    serviceArn: event.detail.requestParameters.serviceArn,
    actor: identity.arn ?? identity.principalId ?? identity.type,
    // Person or automation is the core's call, under the config's automationPrincipals.
    identity: {
      type: identity.type,
      ...(identity.arn ? { arn: identity.arn } : {}),
      ...(identity.invokedBy ? { invokedBy: identity.invokedBy } : {}),
    },
  };
}
