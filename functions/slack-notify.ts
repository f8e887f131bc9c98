// SNS domain notifications (behind the subscription's filter policy) → one Slack thread per release
import { slackLambdaHandlers, sstSecretReader } from "@gantry/runtime";
import { Resource } from "sst";
import config from "../gantry.config.ts";

export const handler = slackLambdaHandlers(config, sstSecretReader(Resource)).notify;
