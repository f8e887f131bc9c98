// App Runner operation/service status → outcomes, waiting deploys
import { lambdaHandlers } from "@gantry/runtime";
import config from "../gantry.config.ts";

export const handler = lambdaHandlers(config).appRunnerEvent;
