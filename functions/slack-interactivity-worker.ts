// Slack button presses, acknowledged by slack-interactivity, applied here (asynchronous invocation)
import { slackLambdaHandlers, sstSecretReader } from "@gantry/runtime";
import { Resource } from "sst";
import config from "../gantry.config.ts";

export const handler = slackLambdaHandlers(config, sstSecretReader(Resource)).worker;
