/**
 * What `gantry` (the CLI) needs to act on this stage as the functions do:
 * - `cliEnvironment` (a stage output): the variables to export, durable retries included, so a
 *   deploy the CLI starts can schedule its retry like any function's;
 * - the Gantry config the functions were bundled with, validated now (an invalid gantry.config.ts
 *   fails `sst deploy`) and published in the ledger table, so the CLI re-gates with the deployed
 *   policies, never with a local file that may have changed since.
 */

import { createHash } from "node:crypto";
import gantryConfig from "../gantry.config.ts";
import { deployedConfigItem } from "../packages/core/src/deployed-config.ts";
import { parseGantryConfig } from "../packages/core/src/gantry-config.ts";
import { notifications } from "./notifications";
import { retryFunctionArn, retryScheduleGroup, retrySchedulerRole } from "./recovery";
import { idempotency, ledger } from "./storage";

export const region = aws.getRegionOutput().region;

const config = parseGantryConfig(gantryConfig);
/** A short fingerprint of the deployed config, shown by the CLI. */
export const gantryConfigVersion = createHash("sha256")
  .update(JSON.stringify(config))
  .digest("hex")
  .slice(0, 12);

/** DynamoDB JSON: every attribute of the item is a string. */
const item = Object.fromEntries(
  Object.entries(deployedConfigItem(config, gantryConfigVersion)).map(([name, value]) => [
    name,
    { S: value },
  ]),
);

export const deployedConfig = new aws.dynamodb.TableItem("GantryConfig", {
  tableName: ledger.name,
  hashKey: "pk",
  rangeKey: "sk",
  item: JSON.stringify(item),
});

export const cliEnvironment = {
  GANTRY_STAGE: $app.stage,
  AWS_REGION: region,
  GANTRY_LEDGER_TABLE: ledger.name,
  GANTRY_IDEMPOTENCY_TABLE: idempotency.name,
  GANTRY_TOPIC_ARN: notifications.arn,
  GANTRY_RETRY_FUNCTION_ARN: retryFunctionArn,
  GANTRY_RETRY_ROLE_ARN: retrySchedulerRole.arn,
  GANTRY_RETRY_SCHEDULE_GROUP: retryScheduleGroup.name,
};
