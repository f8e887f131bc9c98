/**
 * Large uploads behind CloudFront (README, "Large uploads"). Uploads go from the browser straight
 * to S3 with presigned multipart URLs: App Runner cuts requests at 120 s, Lambda bodies at 6 MB and
 * CloudFront's edge functions see at most 1 MB of a body (FACTS §5).
 *
 * Per app in `uploads.config.json` (or the file `GANTRY_UPLOADS_CONFIG` names; without one,
 * nothing here is created):
 * - a CloudFront distribution: the app's App Runner service is the default origin, reached with a
 *   secret `x-origin-verify` header; `/_uploads/*` goes to the app's presign function URL, which
 *   only CloudFront may invoke (origin access control);
 * - a WAF web ACL association on the App Runner service that blocks requests without the header,
 *   so the service's own `*.awsapprunner.com` domain cannot bypass CloudFront;
 * - a presign function allowed to write only under the app's prefix.
 * Shared: one private, encrypted bucket (CORS for the apps' origins, incomplete multipart uploads
 * aborted, optional expiry per app) and the completion function that announces new objects.
 */

import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import {
  parseUploadsConfig,
  type UploadAppConfig,
  type UploadsConfig,
  uploadKeyPrefix,
  uploadPolicyOf,
} from "../packages/core/src/uploads/upload-config.ts";
import { nodejsBundling } from "./bundling";
import { deadLetters } from "./dead-letters";
import { deliverFailures } from "./permissions";
import { publicFunctionConcurrency } from "./throttling";

/** The header CloudFront adds to every request to the app; WAF admits only requests carrying it. */
export const ORIGIN_VERIFY_HEADER = "x-origin-verify";

/** CloudFront's managed policies (AWS-owned ids): no caching, every viewer header but Host. */
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"];

function loadUploadsConfig(): UploadsConfig {
  const configured = process.env.GANTRY_UPLOADS_CONFIG?.trim();
  const file = configured || "uploads.config.json";
  const path = isAbsolute(file) ? file : join($cli.paths.root, file);
  if (!existsSync(path)) {
    if (configured) throw new Error(`GANTRY_UPLOADS_CONFIG: ${file} does not exist`);
    return { apps: {} };
  }
  return parseUploadsConfig(JSON.parse(readFileSync(path, "utf8")), file);
}

export const uploadsConfig = loadUploadsConfig();
const apps = Object.entries(uploadsConfig.apps);

/** `storefront-eu` → `StorefrontEu`: logical and secret names allow letters and digits only. */
const pascal = (name: string) =>
  name
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

const TOKEN_KEY_SECRET = "UploadsTokenKey";

const lambdaTrust = aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" });
const partition = aws.getPartitionOutput().partition;
const region = aws.getRegionOutput().region;
const account = aws.getCallerIdentityOutput().accountId;

function createUploads() {
  // --- secrets -------------------------------------------------------------------------------
  /** What CloudFront sends. Rotation: README, "Rotating the origin-verify secret". */
  const originVerify = new sst.Secret("UploadsOriginVerify");
  /** Also admitted by WAF while a rotation is under way; empty otherwise. */
  const originVerifyPrevious = new sst.Secret("UploadsOriginVerifyPrevious", "");
  /** Seals upload tokens (at least 32 bytes). */
  const tokenKey = new sst.Secret(TOKEN_KEY_SECRET);

  // --- bucket --------------------------------------------------------------------------------
  const bucket = new sst.aws.Bucket("Uploads", {
    // Browsers PUT parts straight to S3: only from the apps' origins, only PUT, only the header
    // the presigned URLs sign; ETag must be readable or the client cannot complete.
    cors: {
      allowOrigins: [...new Set(apps.flatMap(([, app]) => app.origins))].sort(),
      allowMethods: ["PUT"],
      allowHeaders: ["x-amz-checksum-sha256"],
      exposeHeaders: ["ETag"],
      maxAge: "1 hour",
    },
    // Private (SST blocks public access unless `access` is set) and TLS only.
    enforceHttps: true,
    // A protected stage keeps its uploads: SST retains the bucket, and it is never emptied to delete it.
    transform: { bucket: { forceDestroy: !$app.protect } },
  });

  new aws.s3.BucketServerSideEncryptionConfiguration("UploadsEncryption", {
    bucket: bucket.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  });

  // An upload may take `sessionHours`; parts left behind after that cost money and are useless.
  const longestSessionHours = Math.max(...apps.map(([, app]) => app.sessionHours));
  new aws.s3.BucketLifecycleConfiguration("UploadsLifecycle", {
    bucket: bucket.name,
    rules: [
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: { prefix: "" },
        abortIncompleteMultipartUpload: { daysAfterInitiation: Math.ceil(longestSessionHours / 24) + 1 },
      },
      ...apps
        .filter(([, app]) => app.expireObjectsAfterDays !== undefined)
        .map(([name, app]) => ({
          id: `expire-${name}`,
          status: "Enabled",
          filter: { prefix: uploadKeyPrefix(name) },
          expiration: { days: app.expireObjectsAfterDays },
        })),
    ],
  });

  const objectsOf = (name: string) => $interpolate`${bucket.arn}/${uploadKeyPrefix(name)}*`;

  // --- WAF on the App Runner services ----------------------------------------------------------
  const verifyValues = $resolve([originVerify.value, originVerifyPrevious.value]).apply(
    ([current, previous]) => {
      for (const [secret, value] of [
        ["UploadsOriginVerify", current],
        ["UploadsOriginVerifyPrevious", previous],
      ] as const) {
        // WAF matches at most 200 bytes; the header must not be guessable. Never print the value.
        if (value !== "" && (value.length < 32 || value.length > 200 || !/^[\x21-\x7e]+$/.test(value))) {
          throw new Error(`${secret} must be 32-200 printable ASCII characters`);
        }
      }
      if (current === "") throw new Error("UploadsOriginVerify must be set");
      return previous === "" || previous === current ? [current] : [current, previous];
    },
  );

  const headerEquals = (value: string) => ({
    byteMatchStatement: {
      fieldToMatch: { singleHeader: { name: ORIGIN_VERIFY_HEADER } },
      positionalConstraint: "EXACTLY",
      searchString: value,
      textTransformations: [{ priority: 0, type: "NONE" }],
    },
  });
  const visibility = (metricName: string) => ({
    cloudwatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: false,
  });

  const webAcl = new aws.wafv2.WebAcl("UploadsOriginVerifyAcl", {
    name: `${$app.name}-${$app.stage}-origin-verify`,
    description: "Gantry: App Runner services answer CloudFront only (x-origin-verify)",
    scope: "REGIONAL",
    defaultAction: { block: {} },
    rules: verifyValues.apply((values) => [
      {
        name: "allow-cloudfront",
        priority: 0,
        action: { allow: {} },
        statement:
          values.length === 1
            ? headerEquals(values[0]!)
            : { orStatement: { statements: values.map(headerEquals) } },
        visibilityConfig: visibility("gantry-origin-verify-allowed"),
      },
    ]),
    visibilityConfig: visibility("gantry-origin-verify-blocked"),
  });

  // --- the completion function (shared) -------------------------------------------------------
  const webhookSecretName = (app: string) => `Uploads${pascal(app)}WebhookSecret`;
  const webhookSecrets: Record<string, sst.Secret> = {};
  for (const [name, app] of apps) {
    if (app.webhook) webhookSecrets[name] = new sst.Secret(webhookSecretName(name));
  }

  const completed = new sst.aws.Function("UploadsCompleted", {
    handler: "functions/upload-completed.handler",
    description: "Gantry: announce completed uploads (bus event, signed webhook)",
    runtime: "nodejs22.x",
    architecture: "arm64",
    memory: "256 MB",
    timeout: "30 seconds",
    nodejs: nodejsBundling,
    logging: { format: "json", retention: "1 month" },
    // S3 invokes it once per completed upload: uploads must not take the deploy functions' concurrency.
    concurrency: publicFunctionConcurrency,
    // Linked, not in the environment: SST encrypts linked values into the bundle.
    link: Object.values(webhookSecrets),
    permissions: [
      // HeadObject (with ChecksumMode) is authorised as GetObject.
      { actions: ["s3:GetObject"], resources: apps.map(([name]) => objectsOf(name)) },
      {
        actions: ["events:PutEvents"],
        resources: [$interpolate`arn:${partition}:events:${region}:${account}:event-bus/default`],
      },
      deliverFailures,
    ],
    environment: {
      GANTRY_UPLOAD_APPS: JSON.stringify(
        Object.fromEntries(
          apps.map(([name, app]) => [name, app.webhook ? { webhookUrl: app.webhook.url } : {}]),
        ),
      ),
      // Which linked secret signs each app's webhook (the function reads the values through SST's Resource).
      GANTRY_UPLOAD_WEBHOOK_SECRET_NAMES: JSON.stringify(
        Object.fromEntries(Object.entries(webhookSecrets).map(([app]) => [app, webhookSecretName(app)])),
      ),
      POWERTOOLS_SERVICE_NAME: "gantry-uploads",
      POWERTOOLS_METRICS_NAMESPACE: "Gantry",
    },
    retries: 2,
    transform: {
      role: $dev ? undefined : { assumeRolePolicy: lambdaTrust },
      eventInvokeConfig: { destinationConfig: { onFailure: { destination: deadLetters.arn } } },
    },
  });

  const s3Invoke = new aws.lambda.Permission("UploadsCompletedInvoke", {
    action: "lambda:InvokeFunction",
    function: completed.name,
    principal: "s3.amazonaws.com",
    sourceArn: bucket.arn,
    sourceAccount: account,
  });

  // Only completed multipart uploads under an app's prefix: the presign API creates nothing else.
  new aws.s3.BucketNotification(
    "UploadsNotification",
    {
      bucket: bucket.name,
      lambdaFunctions: apps.map(([name]) => ({
        id: `upload-completed-${name}`,
        lambdaFunctionArn: completed.arn,
        events: ["s3:ObjectCreated:CompleteMultipartUpload"],
        filterPrefix: uploadKeyPrefix(name),
      })),
    },
    { dependsOn: [s3Invoke] },
  );

  // --- per app: presign function, distribution, WAF association --------------------------------
  const oac = new aws.cloudfront.OriginAccessControl("UploadsFunctionOac", {
    name: `${$app.name}-${$app.stage}-uploads`.slice(0, 64),
    description: "Gantry: CloudFront signs its requests to the presign function URLs",
    originAccessControlOriginType: "lambda",
    signingBehavior: "always",
    signingProtocol: "sigv4",
  });

  const outputs: Record<string, { url: $util.Output<string>; bucket: $util.Output<string> }> = {};
  for (const [name, app] of apps) {
    const id = `Uploads${pascal(name)}`;
    const distribution = appDistribution(name, app, id);
    outputs[name] = { url: $interpolate`https://${distribution.domainName}`, bucket: bucket.name };
  }

  function appDistribution(name: string, app: UploadAppConfig, id: string) {
    const authKeyName = `${id}AuthKey`;
    const authKey = new sst.Secret(authKeyName);
    const presign = new sst.aws.Function(`${id}Presign`, {
      handler: "functions/upload-presign.handler",
      description: `Gantry: presigned multipart uploads for ${name}`,
      runtime: "nodejs22.x",
      architecture: "arm64",
      memory: "256 MB",
      timeout: "10 seconds",
      nodejs: nodejsBundling,
      logging: { format: "json", retention: "1 month" },
      // Anyone can call the distribution: a flood is throttled here, not in the deploy functions.
      concurrency: publicFunctionConcurrency,
      // Linked, not in the environment: SST encrypts linked values into the bundle.
      link: [authKey, tokenKey],
      permissions: [
        {
          // CreateMultipartUpload, UploadPart (the presigned URLs) and Complete are PutObject.
          actions: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
          resources: [objectsOf(name)],
        },
      ],
      environment: {
        GANTRY_UPLOAD_BUCKET: bucket.name,
        GANTRY_UPLOAD_POLICY: JSON.stringify(uploadPolicyOf(name, app)),
        GANTRY_UPLOAD_AUTH: JSON.stringify(app.auth),
        // The linked secrets holding the keys (read through SST's Resource at cold start).
        GANTRY_UPLOAD_AUTH_KEY_SECRET: authKeyName,
        GANTRY_UPLOAD_TOKEN_KEY_SECRET: TOKEN_KEY_SECRET,
        POWERTOOLS_SERVICE_NAME: "gantry-uploads",
        POWERTOOLS_METRICS_NAMESPACE: "Gantry",
      },
      transform: { role: $dev ? undefined : { assumeRolePolicy: lambdaTrust } },
    });

    // IAM auth: only CloudFront, signing through origin access control, may call it (permissions
    // below). Declared here rather than with SST's `url` option, whose getter fails the offline check.
    const presignUrl = new aws.lambda.FunctionUrl(`${id}PresignUrl`, {
      functionName: presign.name,
      authorizationType: "AWS_IAM",
      invokeMode: "BUFFERED",
    });

    // The App Runner service and the regional web ACL must live in the stage's region.
    const serviceRegion = app.appRunner.serviceArn.split(":")[3];
    region.apply((stageRegion) => {
      if (serviceRegion !== stageRegion) {
        throw new Error(
          `uploads: ${name}'s App Runner service is in ${serviceRegion}, the stage in ${stageRegion}`,
        );
      }
    });
    new aws.wafv2.WebAclAssociation(`${id}WebAcl`, {
      resourceArn: app.appRunner.serviceArn,
      webAclArn: webAcl.arn,
    });

    const https = {
      httpPort: 80,
      httpsPort: 443,
      originProtocolPolicy: "https-only",
      originSslProtocols: ["TLSv1.2"],
    };
    const distribution = new aws.cloudfront.Distribution(
      `${id}Cdn`,
      {
        enabled: true,
        comment: `Gantry: ${name} with large uploads`,
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        origins: [
          {
            originId: "app",
            domainName: app.appRunner.serviceUrl,
            customOriginConfig: { ...https, originReadTimeout: 60 },
            customHeaders: [{ name: ORIGIN_VERIFY_HEADER, value: originVerify.value }],
          },
          {
            originId: "uploads",
            // `https://<id>.lambda-url.<region>.on.aws/` → its host.
            domainName: presignUrl.functionUrl.apply((url) => url && new URL(url).host),
            customOriginConfig: https,
            originAccessControlId: oac.id,
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: "app",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ALL_METHODS,
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          // The app decides nothing about caching here: CloudFront passes everything through.
          cachePolicyId: CACHING_DISABLED,
          originRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
        orderedCacheBehaviors: [
          {
            pathPattern: "/_uploads/*",
            targetOriginId: "uploads",
            viewerProtocolPolicy: "https-only",
            allowedMethods: ALL_METHODS,
            cachedMethods: ["GET", "HEAD"],
            compress: false,
            cachePolicyId: CACHING_DISABLED,
            originRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
          },
        ],
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: { cloudfrontDefaultCertificate: true },
      },
      // A rotated secret must be admitted by WAF before CloudFront starts sending it.
      { dependsOn: [webAcl] },
    );

    // Lambda checks both for a function URL behind OAC: the URL call and the invocation it makes.
    new aws.lambda.Permission(`${id}CloudFrontInvokeUrl`, {
      action: "lambda:InvokeFunctionUrl",
      function: presign.name,
      principal: "cloudfront.amazonaws.com",
      sourceArn: distribution.arn,
    });
    new aws.lambda.Permission(`${id}CloudFrontInvoke`, {
      action: "lambda:InvokeFunction",
      function: presign.name,
      principal: "cloudfront.amazonaws.com",
      sourceArn: distribution.arn,
      invokedViaFunctionUrl: true,
    });
    return distribution;
  }

  return { bucket, webAcl, completed, outputs };
}

export const uploads = apps.length > 0 ? createUploads() : undefined;

/** Stage outputs: each app's CloudFront URL and the bucket. */
export const uploadOutputs = uploads ? { uploads: uploads.outputs } : {};
