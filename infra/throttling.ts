/**
 * Functions anyone can make run (the public Slack button URL, each app's presign API behind
 * CloudFront, the completion function S3 calls for every finished upload) share the account's
 * Lambda concurrency with Gantry's deploy functions. Reserved concurrency caps each of them, so a
 * flood of requests is throttled there (HTTP 429 for the URLs; S3's asynchronous invocations are
 * retried by Lambda) and never takes the unreserved pool the deploy, retry and reconcile functions
 * run in. https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 *
 * `GANTRY_PUBLIC_CONCURRENCY` (shell or `.env` at deploy time): the cap per public function,
 * default 10; `none` for no cap (an account whose concurrency quota is too small to reserve any:
 * Lambda keeps at least 100 unreserved, https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
 */

const DEFAULT_PUBLIC_CONCURRENCY = 10;

function publicConcurrency(): number | undefined {
  const value = process.env.GANTRY_PUBLIC_CONCURRENCY?.trim() ?? "";
  if (value === "") return DEFAULT_PUBLIC_CONCURRENCY;
  if (value === "none") return undefined;
  const cap = Number(value);
  // 0 would disable the function; Lambda's own maximum per function is the account's quota.
  if (!/^\d+$/.test(value) || cap < 1 || cap > 1000) {
    throw new Error(`GANTRY_PUBLIC_CONCURRENCY: "${value}" must be a whole number from 1 to 1000, or none`);
  }
  return cap;
}

const cap = publicConcurrency();

/** For a public function's `concurrency` (an `sst.aws.Function` argument). */
export const publicFunctionConcurrency = cap === undefined ? undefined : { reserved: cap };
