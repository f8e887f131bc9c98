/**
 * The large-uploads infra (infra/uploads.ts), evaluated offline like infra.test.ts: the real
 * sst.config.ts under Pulumi mocks (`node scripts/sst.mjs check`), with the example uploads config
 * and SST secrets from the environment. Expectations are written out here, not imported from infra/.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import {
  parseUploadCompletedConfig,
  parseUploadPresignConfig,
  withLinkedUploadSecrets,
} from "@gantry/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const CONFIG = "examples/uploads.config.json";
const STOREFRONT_SERVICE = `arn:aws:apprunner:${REGION}:${ACCOUNT}:service/storefront/0123456789abcdef0123456789abcdef`;
const BILLING_SERVICE = `arn:aws:apprunner:${REGION}:${ACCOUNT}:service/billing/fedcba9876543210fedcba9876543210`;
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"];

const CURRENT = "current-origin-verify-0123456789abcdefghijkl";
const PREVIOUS = "previous-origin-verify-0123456789abcdefghijk";
const SECRETS = {
  SST_SECRET_UploadsOriginVerify: CURRENT,
  SST_SECRET_UploadsTokenKey: "token-key-0123456789abcdef0123456789abcdef",
  SST_SECRET_UploadsStorefrontAuthKey: "-----BEGIN PUBLIC KEY-----storefront",
  SST_SECRET_UploadsBillingAuthKey: "-----BEGIN PUBLIC KEY-----billing",
  SST_SECRET_UploadsStorefrontWebhookSecret: "webhook-secret-0123456789abcdef0123456789",
};

interface Resource {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are arbitrary provider JSON.
  inputs: Record<string, any>;
}

interface Report {
  errors: string[];
  outputs: Record<string, unknown>;
  handlers: {
    functionID: string;
    handler: string;
    source: string | null;
    runtime: string;
    bundling: { format?: string; splitting?: boolean };
    links: string[];
  }[];
  resources: Resource[];
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Inputs derived from SST secrets arrive wrapped as Pulumi secrets: `{ <sig>: …, value }`. */
// biome-ignore lint/suspicious/noExplicitAny: unwrapping arbitrary provider JSON.
function plain(value: any): any {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    if ("4dabf18193072939515e22adb298388d" in value) return plain(value.value);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  }
  return value;
}

let workdir: string;

async function check(stage: string, env: Record<string, string>) {
  const out = join(workdir, `${stage}.json`);
  await run(process.execPath, ["scripts/sst.mjs", "check", "--stage", stage, "--out", out], {
    cwd: root,
    env: {
      ...process.env,
      GANTRY_APPRUNNER_ACCESS_ROLE_ARNS: "",
      GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS: "",
      GANTRY_PROTECTED_STAGES: "",
      GANTRY_PUBLIC_CONCURRENCY: "",
      GANTRY_REGION: "",
      AWS_REGION: "",
      AWS_DEFAULT_REGION: "",
      ...env,
    },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
  });
  return plain(JSON.parse(await readFile(out, "utf8"))) as Report;
}

function inspect(report: Report) {
  const one = (type: string, name: string) => {
    const found = report.resources.filter((resource) => resource.type === type && resource.name === name);
    expect(found, `${type} ${name}`).toHaveLength(1);
    return found[0]!.inputs;
  };
  const all = (type: string) => report.resources.filter((resource) => resource.type === type);
  const bucketName = one("aws:s3/bucket:Bucket", "UploadsBucket").bucket as string;
  // The mocks' ARN for the bucket (its logical name: the bucket input is `bucket`, not `name`).
  const bucketArn = `arn:aws:s3:${REGION}:${ACCOUNT}:UploadsBucket-mock`;
  const fnName = (id: string) => one("aws:lambda/function:Function", `${id}Function`).name as string;
  const distributionArn = (id: string) => `arn:aws:cloudfront:${REGION}:${ACCOUNT}:${id}Cdn-mock`;
  const statements = (id: string): Statement[] => {
    const role = one("aws:iam/role:Role", `${id}Role`);
    expect(role.inlinePolicies).toHaveLength(1);
    return JSON.parse(role.inlinePolicies[0].policy).Statement;
  };
  const env = (id: string) => one("aws:lambda/function:Function", `${id}Function`).environment.variables;
  return { one, all, bucketName, bucketArn, fnName, distributionArn, statements, env };
}

let production: Report;
let dev: Report;
let disabled: Report;
let wrongRegion: { code: number; stderr: string };

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), "gantry-uploads-infra-"));
  const elsewhere = join(workdir, "uploads.eu.json");
  const example = JSON.parse(await readFile(join(root, CONFIG), "utf8"));
  example.apps.storefront.appRunner.serviceArn = STOREFRONT_SERVICE.replace(REGION, "eu-west-1");
  await writeFile(elsewhere, JSON.stringify(example));
  [production, dev, disabled, wrongRegion] = await Promise.all([
    check("production", {
      GANTRY_UPLOADS_CONFIG: CONFIG,
      ...SECRETS,
      SST_SECRET_UploadsOriginVerifyPrevious: PREVIOUS,
    }),
    check("dev", { GANTRY_UPLOADS_CONFIG: CONFIG, ...SECRETS }),
    check("none", { GANTRY_UPLOADS_CONFIG: "" }),
    check("elsewhere", { GANTRY_UPLOADS_CONFIG: elsewhere, ...SECRETS }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    ),
  ]);
}, 240_000);

afterAll(async () => {
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

describe("uploads infra: evaluation", () => {
  it("evaluates with uploads configured, and creates nothing for uploads without a config", () => {
    expect(production.errors).toEqual([]);
    expect(dev.errors).toEqual([]);
    expect(disabled.errors).toEqual([]);
    expect(disabled.resources.filter((resource) => resource.name.startsWith("Uploads"))).toEqual([]);
    expect(disabled.resources.filter((resource) => /^aws:(wafv2|cloudfront)\//.test(resource.type))).toEqual(
      [],
    );
  });

  it("refuses an App Runner service outside the stage's region", () => {
    expect(wrongRegion.code).not.toBe(0);
    expect(wrongRegion.stderr).toContain(
      "uploads: storefront's App Runner service is in eu-west-1, the stage in us-east-1",
    );
  });

  it("bundles the upload handlers for nodejs22.x", () => {
    const handlers = production.handlers.filter((handler) => handler.functionID.startsWith("Uploads"));
    expect(
      handlers
        .map(({ functionID, source, runtime, bundling }) => ({ functionID, source, runtime, ...bundling }))
        .sort((a, b) => a.functionID.localeCompare(b.functionID)),
    ).toEqual([
      {
        functionID: "UploadsBillingPresign",
        source: "functions/upload-presign.ts",
        runtime: "nodejs22.x",
        format: "esm",
        splitting: true,
      },
      {
        functionID: "UploadsCompleted",
        source: "functions/upload-completed.ts",
        runtime: "nodejs22.x",
        format: "esm",
        splitting: true,
      },
      {
        functionID: "UploadsStorefrontPresign",
        source: "functions/upload-presign.ts",
        runtime: "nodejs22.x",
        format: "esm",
        splitting: true,
      },
    ]);
  });
});

describe("uploads infra: CloudFront in front of App Runner", () => {
  it.each([
    ["storefront", "abcdefgh12.us-east-1.awsapprunner.com"],
    ["billing", "zyxwvuts98.us-east-1.awsapprunner.com"],
  ])("%s: the app is the default origin, reached over TLS with the origin-verify header", (app, host) => {
    const { one } = inspect(production);
    const id = `Uploads${app.charAt(0).toUpperCase()}${app.slice(1)}`;
    const distribution = one("aws:cloudfront/distribution:Distribution", `${id}Cdn`);
    expect(distribution.enabled).toBe(true);
    const appOrigin = distribution.origins.find((origin: { originId: string }) => origin.originId === "app");
    expect(appOrigin).toEqual({
      originId: "app",
      domainName: host,
      customOriginConfig: {
        httpPort: 80,
        httpsPort: 443,
        originProtocolPolicy: "https-only",
        originSslProtocols: ["TLSv1.2"],
        originReadTimeout: 60,
      },
      customHeaders: [{ name: "x-origin-verify", value: CURRENT }],
    });
    expect(distribution.defaultCacheBehavior).toEqual({
      targetOriginId: "app",
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ALL_METHODS,
      cachedMethods: ["GET", "HEAD"],
      compress: true,
      cachePolicyId: CACHING_DISABLED,
      originRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
    });
  });

  it("routes /_uploads/* to the presign function URL, signed by origin access control", () => {
    const { one } = inspect(production);
    const distribution = one("aws:cloudfront/distribution:Distribution", "UploadsStorefrontCdn");
    expect(distribution.orderedCacheBehaviors).toEqual([
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
    ]);
    const uploadsOrigin = distribution.origins.find(
      (origin: { originId: string }) => origin.originId === "uploads",
    );
    // The function URL's host is computed by AWS; the mocks leave it unset.
    expect(uploadsOrigin).toMatchObject({
      originAccessControlId: "UploadsFunctionOac-id",
      customOriginConfig: { originProtocolPolicy: "https-only" },
    });
    expect(uploadsOrigin.customHeaders).toBeUndefined();
    expect(one("aws:cloudfront/originAccessControl:OriginAccessControl", "UploadsFunctionOac")).toMatchObject(
      {
        originAccessControlOriginType: "lambda",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
    );
  });
});

describe("uploads infra: WAF on the App Runner services", () => {
  const headerEquals = (value: string) => ({
    byteMatchStatement: {
      fieldToMatch: { singleHeader: { name: "x-origin-verify" } },
      positionalConstraint: "EXACTLY",
      searchString: value,
      textTransformations: [{ priority: 0, type: "NONE" }],
    },
  });

  it("blocks by default and admits the current and, during a rotation, the previous value", () => {
    const acl = inspect(production).one("aws:wafv2/webAcl:WebAcl", "UploadsOriginVerifyAcl");
    expect(acl).toMatchObject({ scope: "REGIONAL", defaultAction: { block: {} } });
    expect(acl.rules).toHaveLength(1);
    expect(acl.rules[0]).toMatchObject({
      name: "allow-cloudfront",
      priority: 0,
      action: { allow: {} },
      statement: { orStatement: { statements: [headerEquals(CURRENT), headerEquals(PREVIOUS)] } },
    });
  });

  it("admits only the current value when no rotation is under way", () => {
    const acl = inspect(dev).one("aws:wafv2/webAcl:WebAcl", "UploadsOriginVerifyAcl");
    expect(acl.rules).toEqual([
      expect.objectContaining({ action: { allow: {} }, statement: headerEquals(CURRENT) }),
    ]);
    expect(acl.defaultAction).toEqual({ block: {} });
  });

  it("associates the web ACL with each app's App Runner service", () => {
    const { all } = inspect(production);
    const acl = `arn:aws:wafv2:${REGION}:${ACCOUNT}:gantry-production-origin-verify`;
    expect(
      all("aws:wafv2/webAclAssociation:WebAclAssociation")
        .map((association) => association.inputs)
        .sort((a, b) => a.resourceArn.localeCompare(b.resourceArn)),
    ).toEqual([
      { resourceArn: BILLING_SERVICE, webAclArn: acl },
      { resourceArn: STOREFRONT_SERVICE, webAclArn: acl },
    ]);
  });
});

describe("uploads infra: the bucket", () => {
  it("is private, TLS only and encrypted", () => {
    const { one, bucketName, bucketArn } = inspect(production);
    expect(one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "UploadsPublicAccessBlock")).toEqual(
      {
        bucket: bucketName,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
    );
    const policy = one("aws:s3/bucketPolicy:BucketPolicy", "UploadsPolicy");
    const statements = JSON.parse(policy.policy).Statement as Statement[];
    expect(statements).toEqual([
      {
        Effect: "Deny",
        Action: "s3:*",
        Principal: { "*": "*" },
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    expect(
      one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "UploadsEncryption",
      ),
    ).toEqual({
      bucket: bucketName,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    });
    expect(one("aws:s3/bucket:Bucket", "UploadsBucket").forceDestroy).toBe(false);
    expect(inspect(dev).one("aws:s3/bucket:Bucket", "UploadsBucket").forceDestroy).toBe(true);
  });

  it("allows CORS PUTs from the apps' origins only, with the checksum header, exposing ETag", () => {
    const { one, bucketName } = inspect(production);
    expect(one("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "UploadsCors")).toEqual({
      bucket: bucketName,
      corsRules: [
        {
          allowedOrigins: [
            "https://billing.example.com",
            "https://shop.example.com",
            "https://www.shop.example.com",
          ],
          allowedMethods: ["PUT"],
          allowedHeaders: ["x-amz-checksum-sha256"],
          exposeHeaders: ["ETag"],
          maxAgeSeconds: 3600,
        },
      ],
    });
  });

  it("aborts incomplete multipart uploads and expires objects where an app asks", () => {
    const { one, bucketName } = inspect(production);
    expect(
      one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "UploadsLifecycle"),
    ).toEqual({
      bucket: bucketName,
      rules: [
        {
          id: "abort-incomplete-multipart-uploads",
          status: "Enabled",
          filter: { prefix: "" },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
        },
        {
          id: "expire-storefront",
          status: "Enabled",
          filter: { prefix: "storefront/" },
          expiration: { days: 30 },
        },
      ],
    });
  });

  it("tells the completion function about completed multipart uploads under each app's prefix", () => {
    const { one, bucketName, bucketArn, fnName } = inspect(production);
    const completedArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fnName("UploadsCompleted")}`;
    expect(one("aws:s3/bucketNotification:BucketNotification", "UploadsNotification")).toEqual({
      bucket: bucketName,
      lambdaFunctions: ["storefront", "billing"].map((app) => ({
        id: `upload-completed-${app}`,
        lambdaFunctionArn: completedArn,
        events: ["s3:ObjectCreated:CompleteMultipartUpload"],
        filterPrefix: `${app}/`,
      })),
    });
    expect(one("aws:lambda/permission:Permission", "UploadsCompletedInvoke")).toEqual({
      action: "lambda:InvokeFunction",
      function: fnName("UploadsCompleted"),
      principal: "s3.amazonaws.com",
      sourceArn: bucketArn,
      sourceAccount: ACCOUNT,
    });
  });
});

describe("uploads infra: functions", () => {
  it.each(["Storefront", "Billing"])(
    "%s presign: an IAM-only function URL that only its distribution may call",
    (app) => {
      const { one, all, fnName, distributionArn } = inspect(production);
      const id = `Uploads${app}`;
      expect(one("aws:lambda/functionUrl:FunctionUrl", `${id}PresignUrl`)).toEqual({
        functionName: fnName(`${id}Presign`),
        authorizationType: "AWS_IAM",
        invokeMode: "BUFFERED",
      });
      const permissions = all("aws:lambda/permission:Permission")
        .map((permission) => permission.inputs)
        .filter((permission) => permission.function === fnName(`${id}Presign`));
      expect(permissions).toEqual([
        {
          action: "lambda:InvokeFunctionUrl",
          function: fnName(`${id}Presign`),
          principal: "cloudfront.amazonaws.com",
          sourceArn: distributionArn(id),
        },
        {
          action: "lambda:InvokeFunction",
          function: fnName(`${id}Presign`),
          principal: "cloudfront.amazonaws.com",
          sourceArn: distributionArn(id),
          invokedViaFunctionUrl: true,
        },
      ]);
    },
  );

  it("lets no upload function be called by anyone else", () => {
    const { all } = inspect(production);
    const upload = all("aws:lambda/permission:Permission").filter((permission) =>
      permission.name.startsWith("Uploads"),
    );
    expect(upload.map((permission) => permission.inputs.principal).sort()).toEqual([
      "cloudfront.amazonaws.com",
      "cloudfront.amazonaws.com",
      "cloudfront.amazonaws.com",
      "cloudfront.amazonaws.com",
      "s3.amazonaws.com",
    ]);
    expect(
      all("aws:lambda/functionUrl:FunctionUrl")
        .filter((url) => url.name.startsWith("Uploads"))
        .map((url) => url.inputs.authorizationType),
    ).toEqual(["AWS_IAM", "AWS_IAM"]);
  });

  it.each(["storefront", "billing"])("%s presign: writes only under its own prefix, no `*` action", (app) => {
    const { statements, bucketArn } = inspect(production);
    const id = `Uploads${app.charAt(0).toUpperCase()}${app.slice(1)}Presign`;
    expect(statements(id)).toEqual([
      {
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: `${bucketArn}/${app}/*`,
      },
    ]);
  });

  it("completion: reads the apps' objects, puts events on the default bus, parks failures", () => {
    const { statements, bucketArn, one } = inspect(production);
    const queue = one("aws:sqs/queue:Queue", "DeadLettersQueue").name;
    expect(statements("UploadsCompleted")).toEqual([
      {
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: [`${bucketArn}/storefront/*`, `${bucketArn}/billing/*`],
      },
      {
        Effect: "Allow",
        Action: "events:PutEvents",
        Resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
      },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}` },
    ]);
    expect(
      one(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "UploadsCompletedEventInvokeConfig",
      ),
    ).toMatchObject({
      maximumRetryAttempts: 2,
      destinationConfig: { onFailure: { destination: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}` } },
    });
  });

  it.each(["UploadsStorefrontPresign", "UploadsBillingPresign", "UploadsCompleted"])(
    "%s: the role trusts Lambda only",
    (id) => {
      const role = inspect(production).one("aws:iam/role:Role", `${id}Role`);
      const trust =
        typeof role.assumeRolePolicy === "string" ? JSON.parse(role.assumeRolePolicy) : role.assumeRolePolicy;
      expect(trust.Statement).toEqual([
        expect.objectContaining({
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Principal: { Service: "lambda.amazonaws.com" },
        }),
      ]);
    },
  );

  it("links each function's secrets (SST encrypts them into its bundle), never in its environment", () => {
    const linksOf = (id: string) => production.handlers.find((handler) => handler.functionID === id)?.links;
    expect(linksOf("UploadsStorefrontPresign")).toEqual(["UploadsStorefrontAuthKey", "UploadsTokenKey"]);
    expect(linksOf("UploadsBillingPresign")).toEqual(["UploadsBillingAuthKey", "UploadsTokenKey"]);
    expect(linksOf("UploadsCompleted")).toEqual(["UploadsStorefrontWebhookSecret"]);
    const { all } = inspect(production);
    for (const fn of all("aws:lambda/function:Function")) {
      const environment = JSON.stringify(fn.inputs.environment ?? {});
      for (const [name, value] of Object.entries(SECRETS)) {
        expect(environment, `${fn.name} has ${name}`).not.toContain(value);
      }
    }
  });

  it("gives each function an environment its runtime accepts (the infra → runtime contract)", () => {
    const { env, bucketName } = inspect(production);
    // What the function files do at cold start: read the linked secrets the environment names.
    const linked = (name: string) => SECRETS[`SST_SECRET_${name}` as keyof typeof SECRETS];
    const withSecrets = (id: string) => ({ ...withLinkedUploadSecrets(env(id), linked), AWS_REGION: REGION });
    const presign = parseUploadPresignConfig(withSecrets("UploadsStorefrontPresign"));
    expect(presign).toMatchObject({
      bucket: bucketName,
      policy: {
        app: "storefront",
        contentTypes: ["video/mp4", "video/quicktime", "image/*", "application/pdf"],
        maxObjectBytes: 10737418240,
        partBytes: 16777216,
        urlExpirySeconds: 300,
        sessionHours: 24,
      },
      auth: {
        issuer: "https://auth.shop.example.com",
        audience: "storefront-uploads",
        algorithms: ["RS256"],
      },
      authKey: SECRETS.SST_SECRET_UploadsStorefrontAuthKey,
      tokenKey: SECRETS.SST_SECRET_UploadsTokenKey,
    });
    expect(parseUploadPresignConfig(withSecrets("UploadsBillingPresign"))).toMatchObject({
      policy: { app: "billing", maxObjectBytes: 536870912 },
      authKey: SECRETS.SST_SECRET_UploadsBillingAuthKey,
    });
    expect(parseUploadCompletedConfig(withSecrets("UploadsCompleted"))).toMatchObject({
      apps: { storefront: { webhookUrl: "https://shop.example.com/hooks/gantry-uploads" }, billing: {} },
      webhookSecrets: { storefront: SECRETS.SST_SECRET_UploadsStorefrontWebhookSecret },
      eventBusName: "default",
    });
  });

  it("outputs each app's bucket", () => {
    const { bucketName } = inspect(production);
    expect(production.outputs.uploads).toMatchObject({
      storefront: { bucket: bucketName },
      billing: { bucket: bucketName },
    });
  });
});
