import { SchedulerClient, type SchedulerClientConfig } from "@aws-sdk/client-scheduler";
import { EventBridgeSchedulerAdapter } from "@gantry/aws";
import type { SchedulerPort } from "@gantry/core";
import type { RuntimeConfig } from "../runtime-config.ts";

/** Loaded on first use (`lazyPort`): only a deploy that failed schedules a retry. */
export function buildSchedulerPort(
  clientConfig: SchedulerClientConfig,
  target: NonNullable<RuntimeConfig["retryScheduler"]>,
): SchedulerPort {
  return new EventBridgeSchedulerAdapter(new SchedulerClient(clientConfig), target);
}
