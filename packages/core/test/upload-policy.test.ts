import { describe, expect, it } from "vitest";
import {
  appOfUploadKey,
  checkCompleteParts,
  checkPartNumbers,
  GIB,
  MIB,
  parseUploadsConfig,
  partLength,
  planUpload,
  sanitiseFilename,
  type UploadPolicy,
  uploadObjectKey,
} from "../src/index.ts";

const policy: UploadPolicy = {
  app: "storefront",
  contentTypes: ["video/mp4", "image/*"],
  maxObjectBytes: 10_000 * 100 * MIB,
  partBytes: 16 * MIB,
  urlExpirySeconds: 300,
  sessionHours: 24,
};

describe("planUpload", () => {
  it.each([
    { size: 1, contentType: "image/png", partSize: 16 * MIB, partCount: 1 },
    { size: 16 * MIB, contentType: "video/mp4", partSize: 16 * MIB, partCount: 1 },
    { size: 16 * MIB + 1, contentType: "video/mp4", partSize: 16 * MIB, partCount: 2 },
    { size: 200 * MIB, contentType: "Video/MP4", partSize: 16 * MIB, partCount: 13 },
    // 10,000 × 16 MiB is the most the preferred size covers; beyond, parts grow in whole MiB.
    { size: 10_000 * 16 * MIB, contentType: "video/mp4", partSize: 16 * MIB, partCount: 10_000 },
    { size: 10_000 * 16 * MIB + 1, contentType: "video/mp4", partSize: 17 * MIB, partCount: 9412 },
    { size: 10_000 * 100 * MIB, contentType: "video/mp4", partSize: 100 * MIB, partCount: 10_000 },
  ])("$size bytes of $contentType → $partCount × $partSize", ({ size, contentType, partSize, partCount }) => {
    const plan = planUpload(policy, { size, contentType });
    expect(plan).toEqual({
      ok: true,
      value: { size, contentType: contentType.toLowerCase(), partSize, partCount },
    });
    if (plan.ok) {
      expect(plan.value.partCount).toBeLessThanOrEqual(10_000);
      expect(partLength(plan.value, partCount)).toBeGreaterThan(0);
      expect(partLength(plan.value, partCount)).toBeLessThanOrEqual(partSize);
    }
  });

  it.each([
    { size: policy.maxObjectBytes + 1, contentType: "video/mp4", error: "too_large" },
    { size: 0, contentType: "video/mp4", error: "bad_request" },
    { size: 1.5, contentType: "video/mp4", error: "bad_request" },
    { size: 10, contentType: "text/html", error: "unsupported_media_type" },
    { size: 10, contentType: "video/*", error: "unsupported_media_type" },
    { size: 10, contentType: "image/png; charset=utf-8", error: "unsupported_media_type" },
    { size: 10, contentType: "videomp4", error: "unsupported_media_type" },
    { size: 10, contentType: "video/mp4x", error: "unsupported_media_type" },
  ])("refuses $size bytes of $contentType: $error", ({ size, contentType, error }) => {
    const plan = planUpload(policy, { size, contentType });
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.refusal.error).toBe(error);
  });

  it("names the limit in the refusal", () => {
    expect(
      planUpload({ ...policy, maxObjectBytes: GIB }, { size: GIB + 1, contentType: "video/mp4" }),
    ).toEqual({
      ok: false,
      refusal: {
        error: "too_large",
        message: `the file is ${GIB + 1} bytes; uploads for storefront are limited to ${GIB} bytes`,
      },
    });
  });

  it("sizes every part exactly: all full but the last, adding up to the file", () => {
    const plan = { size: 40 * MIB + 3, partSize: 16 * MIB, partCount: 3 };
    expect([1, 2, 3].map((n) => partLength(plan, n))).toEqual([16 * MIB, 16 * MIB, 8 * MIB + 3]);
  });
});

describe("keys and filenames", () => {
  it.each([
    ["holiday video.mp4", "holiday-video.mp4"],
    ["../../etc/passwd", "passwd"],
    ["C:\\Users\\me\\Résumé final.pdf", "Resume-final.pdf"],
    [".env", "env"],
    ["..", "file"],
    ["", "file"],
    ["a/b/", "file"],
    ['weird<>:"|?*name.png', "weird-name.png"],
    ["x..y...z.png", "x.y.z.png"],
    ["日本語.txt", "txt"],
    [`${"a".repeat(200)}.jpeg`, `${"a".repeat(115)}.jpeg`],
  ])("%j → %j", (input, expected) => {
    const name = sanitiseFilename(input);
    expect(name).toBe(expected);
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/);
  });

  it("builds <app>/<id>/<name> and reads the app back only from well-formed keys", () => {
    const key = uploadObjectKey("storefront", "AbC_12-xyzAbC_12-xyz00", "../My File.MP4");
    expect(key).toBe("storefront/AbC_12-xyzAbC_12-xyz00/My-File.MP4");
    expect(appOfUploadKey(key)).toBe("storefront");
    expect(appOfUploadKey("storefront/short/x.png")).toBeUndefined();
    expect(appOfUploadKey("storefront/AbC_12-xyzAbC_12-xyz00/a/b.png")).toBeUndefined();
    expect(appOfUploadKey("Storefront/AbC_12-xyzAbC_12-xyz00/b.png")).toBeUndefined();
  });
});

describe("part numbers", () => {
  it.each([
    { parts: [1, 2, 3], expected: undefined },
    { parts: [], expected: "bad_request" },
    { parts: [0], expected: "invalid_parts" },
    { parts: [4], expected: "invalid_parts" },
    { parts: [2, 2], expected: "invalid_parts" },
    { parts: Array.from({ length: 101 }, (_, i) => i + 1), expected: "bad_request" },
  ])("sign $parts of 3 → $expected", ({ parts, expected }) => {
    expect(checkPartNumbers(parts.length > 100 ? 200 : 3, parts)?.error).toBe(expected);
  });

  it.each([
    { parts: [3, 1, 2], expected: undefined },
    { parts: [1, 2], expected: "parts missing: 3" },
    { parts: [1, 2, 3, 3], expected: "a part is listed twice" },
    { parts: [1, 2, 3, 4], expected: "the upload has 3 parts" },
  ])("complete $parts of 3 → $expected", ({ parts, expected }) => {
    expect(checkCompleteParts(3, parts)?.message).toBe(expected);
  });
});

describe("parseUploadsConfig", () => {
  const app = {
    appRunner: {
      serviceArn: `arn:aws:apprunner:us-east-1:123456789012:service/storefront/${"0".repeat(32)}`,
      serviceUrl: "abcd1234.us-east-1.awsapprunner.com",
    },
    origins: ["https://shop.example.com"],
    contentTypes: ["video/mp4"],
    maxObjectBytes: GIB,
    auth: { issuer: "https://auth.example.com", audience: "uploads", algorithms: ["RS256"] },
  };

  it("fills in the defaults", () => {
    expect(parseUploadsConfig({ apps: { storefront: app } }).apps.storefront).toMatchObject({
      partBytes: 16 * MIB,
      urlExpirySeconds: 300,
      sessionHours: 24,
      auth: { clockToleranceSeconds: 30 },
    });
    expect(parseUploadsConfig({})).toEqual({ apps: {} });
  });

  it("names every problem with its path", () => {
    expect(() =>
      parseUploadsConfig(
        {
          apps: {
            Store: app,
            storefront: {
              ...app,
              origins: ["https://shop.example.com/path"],
              partBytes: MIB,
              contentTypes: ["Video/MP4"],
              auth: { ...app.auth, algorithms: ["none"] },
              webhook: { url: "http://insecure.example.com" },
              extra: true,
            },
          },
        },
        "uploads.config.json",
      ),
    ).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          expect.stringMatching(/^apps\.Store: app names are/),
          'apps.storefront: Unrecognized key: "extra"',
          "apps.storefront.contentTypes.0: must be a lowercase media type such as video/mp4 or image/*",
          "apps.storefront.partBytes: must be at least 5 MiB (S3's minimum part size)",
          "apps.storefront.origins.0: must be an origin: scheme://host[:port], no path",
          "apps.storefront.webhook.url: must be an https URL",
          expect.stringMatching(/^apps\.storefront\.auth\.algorithms\.0: /),
        ]),
      }),
    );
  });
});
