// ECR Image Action (PUSH/SUCCESS) → release candidates
import { lambdaHandlers } from "@gantry/runtime";
import config from "../gantry.config.ts";

export const handler = lambdaHandlers(config).imagePush;
