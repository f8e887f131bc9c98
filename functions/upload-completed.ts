// S3 ObjectCreated (uploads bucket) → gantry.upload "Upload Completed" on the bus + signed webhook
import { uploadCompletedHandler } from "@gantry/runtime";

export const handler = uploadCompletedHandler();
