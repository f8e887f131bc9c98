import { describe, expect, it } from "vitest";
import {
  parseUploadCompletedConfig,
  parseUploadPresignConfig,
  RuntimeConfigError,
  sstSecretReader,
  withLinkedUploadSecrets,
} from "../src/index.ts";

const AUTH_KEY = "auth-key-value-that-must-never-be-printed";
const TOKEN_KEY = "t".repeat(32);
const WEBHOOK = "w".repeat(32);

/** SST's `Resource`: linked values under their names; an unlinked name throws. */
const resource = new Proxy(
  {
    UploadsShopAuthKey: { value: AUTH_KEY },
    UploadsTokenKey: { value: TOKEN_KEY },
    UploadsShopWebhookSecret: { value: WEBHOOK },
    UploadsUnsetAuthKey: { value: "" },
  } as Record<string, { value: string }>,
  {
    get(target, name: string) {
      if (!(name in target)) throw new Error(`"${name}" is not linked in your sst.config.ts`);
      return target[name];
    },
  },
);
const read = sstSecretReader(resource);

const presignEnv = {
  AWS_REGION: "eu-west-1",
  GANTRY_UPLOAD_BUCKET: "gantry-uploads",
  GANTRY_UPLOAD_POLICY: JSON.stringify({
    app: "shop",
    contentTypes: ["image/*"],
    maxObjectBytes: 1024 * 1024 * 1024,
  }),
  GANTRY_UPLOAD_AUTH: JSON.stringify({ issuer: "i", audience: "a", algorithms: ["HS256"] }),
  GANTRY_UPLOAD_AUTH_KEY_SECRET: "UploadsShopAuthKey",
  GANTRY_UPLOAD_TOKEN_KEY_SECRET: "UploadsTokenKey",
};

describe("upload secrets come from linked SST secrets the environment names", () => {
  it("fills in the presign and completion keys from the linked values", () => {
    expect(parseUploadPresignConfig(withLinkedUploadSecrets(presignEnv, read))).toMatchObject({
      authKey: AUTH_KEY,
      tokenKey: TOKEN_KEY,
    });
    const completed = withLinkedUploadSecrets(
      {
        AWS_REGION: "eu-west-1",
        GANTRY_UPLOAD_APPS: JSON.stringify({ shop: { webhookUrl: "https://shop.example.com/hook" } }),
        GANTRY_UPLOAD_WEBHOOK_SECRET_NAMES: JSON.stringify({ shop: "UploadsShopWebhookSecret" }),
      },
      read,
    );
    expect(parseUploadCompletedConfig(completed).webhookSecrets).toEqual({ shop: WEBHOOK });
  });

  it("names the variable and the secret that is not set or not linked, never a value", () => {
    for (const secret of ["UploadsUnsetAuthKey", "UploadsNotLinked"]) {
      let thrown: unknown;
      try {
        withLinkedUploadSecrets({ ...presignEnv, GANTRY_UPLOAD_AUTH_KEY_SECRET: secret }, read);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(RuntimeConfigError);
      expect((thrown as RuntimeConfigError).problems).toEqual([
        `GANTRY_UPLOAD_AUTH_KEY: the linked secret ${secret} is not set (npx sst secret set ${secret} …)`,
      ]);
      expect(String(thrown)).not.toContain(TOKEN_KEY);
    }
    expect(() => withLinkedUploadSecrets({ GANTRY_UPLOAD_WEBHOOK_SECRET_NAMES: "{" }, read)).toThrow(
      "GANTRY_UPLOAD_WEBHOOK_SECRET_NAMES must be a JSON object of app → secret name",
    );
  });
});
