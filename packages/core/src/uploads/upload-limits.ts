/** Sizes the S3 multipart API imposes (FACTS §5); the presign API never plans outside them. */
export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

/** Every part but the last must be at least this big. */
export const S3_MIN_PART_BYTES = 5 * MIB;
export const S3_MAX_PART_BYTES = 5 * GIB;
export const S3_MAX_PARTS = 10_000;
/** The largest object a plan can describe: the part count times the largest part. */
export const S3_MAX_MULTIPART_BYTES = S3_MAX_PARTS * S3_MAX_PART_BYTES;

/** Parts signed per request: keeps a response well under Lambda's 6 MB and CloudFront's limits. */
export const MAX_PARTS_PER_SIGN_REQUEST = 100;
/** Filenames are cut to this many characters (the key keeps the extension). */
export const MAX_FILENAME_LENGTH = 120;
