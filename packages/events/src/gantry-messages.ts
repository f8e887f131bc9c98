import type { RetryJob } from "@gantry/core";
import * as z from "zod";
import { EventContractError } from "./event-contract-error.ts";

/** Gantry's own messages: the payload EventBridge Scheduler hands the retry function. */
export const retryJobSchema = z
  .object({
    kind: z.literal("redeploy"),
    serviceArn: z.string().startsWith("arn:"),
    digest: z.string().regex(/^sha256:[A-Za-z0-9]+$/),
    attempt: z.number().int().min(2).max(100),
  })
  .strict();

export function parseRetryJob(raw: unknown): RetryJob {
  const result = retryJobSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new EventContractError({
    field: issue?.path.join(".") || "(message)",
    reason: issue?.message ?? "Invalid",
    source: "gantry.retry",
    issues: result.error.issues.map((each) => ({
      field: each.path.join(".") || "(message)",
      reason: each.message,
    })),
  });
}
