/**
 * The upload client in a real browser: Debian's Chromium driven by playwright-core (no downloaded
 * browsers). A page on 127.0.0.1 (served with the presign API by the CloudFront stand-in) uploads a
 * file with the esbuild-bundled client straight to s3rver, cross-origin under the bucket's CORS
 * rule, and its progress reaches 100%.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { MIB } from "@gantry/core";
import {
  buildUploadPresignDeps,
  createUploadPresignHandler,
  parseUploadPresignConfig,
} from "@gantry/runtime";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFunctionUrlServer } from "../uploads/support/function-url-server.ts";
import { es256KeyPair, signJwt } from "../uploads/support/jwt.ts";
import { type LocalS3, S3RVER_CREDENTIALS, startLocalS3 } from "../uploads/support/s3rver.ts";

const CHROMIUM = "/usr/bin/chromium";
const BUCKET = "gantry-uploads-browser";
const root = resolve(import.meta.dirname, "../..");

/** Where Chromium is missing, CI must fail (.ci/run installs it); a developer's run skips. */
const runnable = existsSync(CHROMIUM) || process.env.CI === "true";

const PAGE = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>Gantry upload</title></head>
  <body>
    <progress id="bar" max="1" value="0"></progress> <span id="progress">0%</span>
    <script src="/upload-client.js"></script>
    <script>
      window.seen = [];
      window.runUpload = async ({ size, token }) => {
        const bytes = new Uint8Array(size);
        for (let offset = 0; offset < size; offset += 65536) {
          crypto.getRandomValues(bytes.subarray(offset, Math.min(offset + 65536, size)));
        }
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        const file = new File([bytes], "from the browser.bin", { type: "application/octet-stream" });
        const result = await GantryUpload.uploadFile({
          endpoint: "/_uploads",
          file,
          getToken: () => token,
          concurrency: 3,
          resume: { store: localStorage },
          onProgress: (progress) => {
            window.seen.push(progress.fraction);
            document.getElementById("bar").value = progress.fraction;
            document.getElementById("progress").textContent = Math.round(progress.fraction * 100) + "%";
          },
        });
        return { ...result, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""), stored: localStorage.length };
      };
    </script>
  </body>
</html>`;

describe.skipIf(!runnable)("the upload client in Chromium", () => {
  let s3: LocalS3;
  let site: Awaited<ReturnType<typeof startFunctionUrlServer>>;
  let browser: Browser;
  const keys = es256KeyPair();

  beforeAll(async () => {
    const bundle = await build({
      stdin: { contents: 'export * from "@gantry/upload-client";', resolveDir: root, loader: "ts" },
      bundle: true,
      write: false,
      format: "iife",
      globalName: "GantryUpload",
      platform: "browser",
      target: "chrome120",
      logLevel: "silent",
    });
    const script = bundle.outputFiles[0]!.text;
    // The client carries no Node built-ins and no dependencies into the page.
    expect(script).not.toMatch(/require\(["']node:|from ["']node:/);

    let handler: ReturnType<typeof createUploadPresignHandler> | undefined;
    site = await startFunctionUrlServer({
      handler: (event, context) => handler!(event, context),
      files: {
        "/": { contentType: "text/html", body: PAGE },
        "/upload-client.js": { contentType: "text/javascript", body: script },
      },
    });
    s3 = await startLocalS3(BUCKET, { origins: [site.url] });
    const config = parseUploadPresignConfig({
      AWS_REGION: "us-east-1",
      GANTRY_S3_ENDPOINT: s3.endpoint,
      GANTRY_S3_FORCE_PATH_STYLE: "true",
      GANTRY_UPLOAD_BUCKET: BUCKET,
      GANTRY_UPLOAD_POLICY: JSON.stringify({
        app: "storefront",
        contentTypes: ["application/octet-stream"],
        maxObjectBytes: 64 * MIB,
        partBytes: 5 * MIB,
      }),
      GANTRY_UPLOAD_AUTH: JSON.stringify({
        issuer: "https://auth.test",
        audience: "uploads",
        algorithms: ["ES256"],
      }),
      GANTRY_UPLOAD_AUTH_KEY: keys.publicKeyPem,
      GANTRY_UPLOAD_TOKEN_KEY: randomBytes(32).toString("hex"),
    });
    const deps = buildUploadPresignDeps(config, { credentials: S3RVER_CREDENTIALS });
    handler = createUploadPresignHandler(() => deps);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    await s3?.stop();
  });

  it("uploads a 12 MiB file in parallel parts and shows progress reaching 100%", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${site.url}/`);
    expect(await page.textContent("#progress")).toBe("0%");

    const token = signJwt(
      {
        iss: "https://auth.test",
        aud: "uploads",
        sub: "browser-user",
        exp: Math.floor(Date.now() / 1000) + 600,
      },
      { alg: "ES256", privateKey: keys.privateKey },
    );
    const size = 12 * MIB;
    const result = await page.evaluate(
      (input) =>
        (globalThis as unknown as { runUpload(i: unknown): Promise<Record<string, unknown>> }).runUpload(
          input,
        ),
      { size, token },
    );

    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }
        ).document.getElementById("progress").textContent === "100%",
      undefined,
      { timeout: 5000 },
    );
    expect(await page.getAttribute("#bar", "value")).toBe("1");
    const seen = (await page.evaluate(() => (globalThis as unknown as { seen: number[] }).seen)) as number[];
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(result).toMatchObject({ size, partCount: 3, contentType: "application/octet-stream", stored: 0 });
    expect(result.key).toMatch(/^storefront\/[A-Za-z0-9_-]{22}\/from-the-browser\.bin$/);
    expect(errors).toEqual([]);

    const key = result.key as string;
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(size);
    const object = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const hash = createHash("sha256");
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    expect(hash.digest("hex")).toBe(result.sha256);

    // Everything the page asked the API for went through the CloudFront stand-in and succeeded.
    const api = site.requests.filter((request) => request.path.startsWith("/_uploads/"));
    expect(api.map((request) => request.status).every((status) => status < 300)).toBe(true);
    expect(api.filter((request) => request.path === "/_uploads/sign")).toHaveLength(3);
    await page.close();
  }, 60_000);
});
