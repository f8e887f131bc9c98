// S3 ObjectCreated (uploads bucket) → gantry.upload "Upload Completed" on the bus + signed webhook
import { sstSecretReader, uploadCompletedHandler, withLinkedUploadSecrets } from "@gantry/runtime";
import { Resource } from "sst";

// The webhook signing secrets are linked SST secrets; the environment names them.
export const handler = uploadCompletedHandler(
  withLinkedUploadSecrets(process.env, sstSecretReader(Resource)),
);
