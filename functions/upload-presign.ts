// CloudFront /_uploads/* (function URL, origin access control) → presigned S3 multipart uploads
import { uploadPresignHandler } from "@gantry/runtime";

export const handler = uploadPresignHandler();
