// ECR Image Scan / Inspector2 Scan → gate decision, deploy by digest or block
import { lambdaHandlers } from "@gantry/runtime";
import config from "../gantry.config.ts";

export const handler = lambdaHandlers(config).imageScan;
