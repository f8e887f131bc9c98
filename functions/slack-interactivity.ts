// Slack button presses (Lambda function URL) → verified, allowlisted, acknowledged, handed to the worker
import { slackLambdaHandlers, sstSecretReader } from "@gantry/runtime";
import { Resource } from "sst";
import config from "../gantry.config.ts";

export const handler = slackLambdaHandlers(config, sstSecretReader(Resource)).interactivity;
