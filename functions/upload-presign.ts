// CloudFront /_uploads/* (function URL, origin access control) → presigned S3 multipart uploads
import { sstSecretReader, uploadPresignHandler, withLinkedUploadSecrets } from "@gantry/runtime";
import { Resource } from "sst";

// The JWT key and the token-sealing key are linked SST secrets; the environment names them.
export const handler = uploadPresignHandler(withLinkedUploadSecrets(process.env, sstSecretReader(Resource)));
