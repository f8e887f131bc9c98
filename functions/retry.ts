// EventBridge Scheduler one-time schedule → a deploy attempt that fell due (backoff with jitter)
import { lambdaHandlers } from "@gantry/runtime";
import config from "../gantry.config.ts";

export const handler = lambdaHandlers(config).retry;
