import { readFileSync } from "node:fs";
import { APP_RUNNER_MODEL_PATCHES, AwsModel, type BotocoreModel, type ShapePatches } from "@gantry/aws";

/**
 * The emulators validate with the same model validator the App Runner adapter uses before a
 * recreate (`packages/aws/src/aws-model.ts`); this module only loads the models from disk.
 */
export {
  APP_RUNNER_MODEL_PATCHES,
  AwsApiError,
  AwsModel,
  type BotocoreModel,
  type BotocoreOperation,
  type BotocoreShape,
  type BotocoreShapeRef,
  callViolations,
  formatIssues,
  type RecordedCall,
  type ShapePatches,
  type ValidationIssue,
} from "@gantry/aws";

/** The models copied into the repository (test/fixtures/aws-models/README.md says from where). */
const MODELS_DIR = new URL("../../../test/fixtures/aws-models/", import.meta.url);

let appRunnerModel: AwsModel | undefined;
let ecrModel: AwsModel | undefined;

/** Reads a `service-2.json` file (a path or a `file:` URL). */
export function loadModel(file: string | URL, patches: ShapePatches = {}): AwsModel {
  return new AwsModel(JSON.parse(readFileSync(file, "utf8")) as BotocoreModel, patches);
}

/** botocore `apprunner/2020-05-15` with `APP_RUNNER_MODEL_PATCHES` applied; loaded once. */
export function loadAppRunnerModel(): AwsModel {
  appRunnerModel ??= loadModel(
    new URL("botocore-apprunner-2020-05-15-service-2.json", MODELS_DIR),
    APP_RUNNER_MODEL_PATCHES,
  );
  return appRunnerModel;
}

/** botocore `ecr/2015-09-21`; loaded once. */
export function loadEcrModel(): AwsModel {
  ecrModel ??= loadModel(new URL("botocore-ecr-2015-09-21-service-2.json", MODELS_DIR));
  return ecrModel;
}
