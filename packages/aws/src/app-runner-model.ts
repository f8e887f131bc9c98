import botocoreAppRunner from "../../../test/fixtures/aws-models/botocore-apprunner-2020-05-15-service-2.json" with {
  type: "json",
};
import { APP_RUNNER_MODEL_PATCHES, AwsModel, type BotocoreModel } from "./aws-model.ts";

/**
 * The App Runner API model (botocore, Apache-2.0; provenance in test/fixtures/aws-models/README.md)
 * bundled into the function that recreates services. The adapter imports this module on first use,
 * so its ~150 kB are read only by an invocation that is about to recreate a service.
 */
let model: AwsModel | undefined;

export function appRunnerModel(): AwsModel {
  model ??= new AwsModel(botocoreAppRunner as unknown as BotocoreModel, APP_RUNNER_MODEL_PATCHES);
  return model;
}
