import { CreateScheduleCommand, type SchedulerClient } from "@aws-sdk/client-scheduler";
import type { RetryJob, SchedulerPort } from "@gantry/core";

export interface RetrySchedulerTarget {
  /** The retry function's ARN and the role EventBridge Scheduler assumes to invoke it. */
  functionArn: string;
  roleArn: string;
  groupName: string;
}

/**
 * Durable retries as EventBridge Scheduler one-time schedules (`at(...)`, deleted after they run).
 * Chosen over an SQS delay queue because SQS delays stop at 15 minutes while a policy's backoff may
 * reach hours, and a named schedule per attempt makes a duplicate request a no-op (ConflictException).
 */
export class EventBridgeSchedulerAdapter implements SchedulerPort {
  constructor(
    private readonly client: SchedulerClient,
    private readonly target: RetrySchedulerTarget,
  ) {}

  async scheduleRetry(job: RetryJob, at: Date): Promise<void> {
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: scheduleName(job),
          GroupName: this.target.groupName,
          ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: "UTC",
          FlexibleTimeWindow: { Mode: "OFF" },
          ActionAfterCompletion: "DELETE",
          Target: {
            Arn: this.target.functionArn,
            RoleArn: this.target.roleArn,
            Input: JSON.stringify(job),
            RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
          },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConflictException") throw error; // already scheduled: idempotent
    }
  }
}

/** Schedule names allow 1–64 of [0-9a-zA-Z-_.]: service id, short digest and attempt identify a job. */
export function scheduleName(job: RetryJob): string {
  const serviceId = job.serviceArn.split("/").at(-1) ?? "service";
  return `retry-${serviceId.slice(0, 32)}-${job.digest.slice(7, 19)}-${job.attempt}`;
}
