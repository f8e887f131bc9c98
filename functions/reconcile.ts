// every 5 minutes → lost events, scan timeouts (fail closed)
import { lambdaHandlers } from "@gantry/runtime";
import config from "../gantry.config.ts";

export const handler = lambdaHandlers(config).reconcile;
