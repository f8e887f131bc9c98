import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  InvalidParameterException,
  RepositoryNotFoundException,
  ScanNotFoundException,
} from "@aws-sdk/client-ecr";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AwsEmulatorServer } from "../src/aws-emulator-server.ts";
import { callViolations } from "../src/aws-model.ts";
import { EcrEmulator, type EcrFinding } from "../src/ecr-emulator.ts";
import { VirtualClock } from "../src/virtual-clock.ts";

const ACCOUNT = "111122223333";
const REPO = "shop/web";
const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;
const PUSHED_AT = new Date("2026-01-01T00:00:00Z");

const FINDINGS: EcrFinding[] = [
  { name: "CVE-2024-3094", severity: "CRITICAL", packageName: "xz-utils", packageVersion: "5.6.0" },
  {
    name: "CVE-2023-4911",
    severity: "HIGH",
    uri: "https://security-tracker.debian.org/tracker/CVE-2023-4911",
  },
  { name: "CVE-2023-5678", severity: "HIGH", description: "openssl DH check" },
  { name: "CVE-2022-0001", severity: "LOW" },
];

let clock: VirtualClock;
let ecr: EcrEmulator;
let server: AwsEmulatorServer;
let client: ECRClient;

beforeEach(async () => {
  clock = new VirtualClock(new Date("2026-01-01T00:10:00Z"));
  ecr = new EcrEmulator({ accountId: ACCOUNT, region: "us-east-1", clock });
  server = new AwsEmulatorServer({ ecr });
  const { endpoint } = await server.start();
  client = new ECRClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-checked" },
    maxAttempts: 1,
  });
  ecr.putImage({
    repositoryName: REPO,
    digest: DIGEST_A,
    tags: ["v1", "latest"],
    pushedAt: PUSHED_AT,
    scan: { status: "COMPLETE", findings: FINDINGS },
  });
});

afterEach(async () => {
  client.destroy();
  await server.stop();
  // Every request and response of the test, checked against AWS's ECR model.
  expect(callViolations(ecr.model, ecr.calls)).toEqual([]);
});

describe("ECR emulator through the real ECRClient", () => {
  it("describes an image by digest and by tag", async () => {
    const byDigest = await client.send(
      new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageDigest: DIGEST_A }] }),
    );
    expect(byDigest.imageDetails).toEqual([
      expect.objectContaining({
        registryId: ACCOUNT,
        repositoryName: REPO,
        imageDigest: DIGEST_A,
        imageTags: ["v1", "latest"],
        imagePushedAt: PUSHED_AT,
      }),
    ]);
    const byTag = await client.send(
      new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: "v1" }] }),
    );
    expect(byTag.imageDetails?.[0]?.imageDigest).toBe(DIGEST_A);
    expect(ecr.registryUri).toBe(`${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`);
  });

  it("moves a mutable tag to the newly pushed image and lists by tag status in pages", async () => {
    ecr.putImage({ repositoryName: REPO, digest: DIGEST_B, tags: ["latest"] });
    ecr.putImage({ repositoryName: REPO, digest: `sha256:${"c".repeat(64)}` });
    const latest = await client.send(
      new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: "latest" }] }),
    );
    expect(latest.imageDetails?.[0]?.imageDigest).toBe(DIGEST_B);
    expect(latest.imageDetails?.[0]?.imagePushedAt).toEqual(clock.now());

    const untagged = await client.send(
      new DescribeImagesCommand({ repositoryName: REPO, filter: { tagStatus: "UNTAGGED" } }),
    );
    expect(untagged.imageDetails?.map((image) => image.imageTags)).toEqual([undefined]);

    const first = await client.send(new DescribeImagesCommand({ repositoryName: REPO, maxResults: 2 }));
    const second = await client.send(
      new DescribeImagesCommand({ repositoryName: REPO, maxResults: 2, nextToken: first.nextToken }),
    );
    expect([...(first.imageDetails ?? []), ...(second.imageDetails ?? [])]).toHaveLength(3);
    expect(second.nextToken).toBeUndefined();
  });

  it("answers ImageNotFoundException and RepositoryNotFoundException", async () => {
    const missingImage = client.send(
      new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: "v9" }] }),
    );
    await expect(missingImage).rejects.toBeInstanceOf(ImageNotFoundException);
    await expect(missingImage).rejects.toThrow(/imageTag:'v9'/);
    await expect(
      client.send(
        new DescribeImagesCommand({
          repositoryName: REPO,
          imageIds: [{ imageDigest: DIGEST_A, imageTag: "v9" }],
        }),
      ),
    ).rejects.toBeInstanceOf(ImageNotFoundException);
    await expect(
      client.send(new DescribeImagesCommand({ repositoryName: "shop/api" })),
    ).rejects.toBeInstanceOf(RepositoryNotFoundException);
    await expect(
      client.send(new DescribeImagesCommand({ registryId: "999988887777", repositoryName: REPO })),
    ).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });

  it("refuses bad parameters with InvalidParameterException naming the field", async () => {
    const tooFew = client.send(new DescribeImagesCommand({ repositoryName: REPO, maxResults: 0 }));
    await expect(tooFew).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(tooFew).rejects.toThrow(/maxResults must be at least 1/);
    await expect(
      client.send(
        new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: "v1" }], maxResults: 5 }),
      ),
    ).rejects.toThrow(/cannot be used with imageIds/);
    await expect(client.send(new DescribeImagesCommand({ repositoryName: "Shop/Web" }))).rejects.toThrow(
      /repositoryName must match the pattern/,
    );
  });

  it("reports scan findings with severity counts of the present severities only (FACTS §2)", async () => {
    const result = await client.send(
      new DescribeImageScanFindingsCommand({ repositoryName: REPO, imageId: { imageTag: "v1" } }),
    );
    expect(result).toMatchObject({
      registryId: ACCOUNT,
      repositoryName: REPO,
      imageId: { imageDigest: DIGEST_A, imageTag: "v1" },
      imageScanStatus: { status: "COMPLETE", description: "The scan was completed successfully." },
    });
    expect(result.imageScanFindings?.findingSeverityCounts).toEqual({ CRITICAL: 1, HIGH: 2, LOW: 1 });
    expect(result.imageScanFindings?.imageScanCompletedAt).toEqual(PUSHED_AT);
    expect(result.imageScanFindings?.findings?.[0]).toEqual({
      name: "CVE-2024-3094",
      severity: "CRITICAL",
      attributes: [
        { key: "package_version", value: "5.6.0" },
        { key: "package_name", value: "xz-utils" },
      ],
    });
  });

  it("pages findings while the counts cover all of them", async () => {
    const input = { repositoryName: REPO, imageId: { imageDigest: DIGEST_A }, maxResults: 3 };
    const first = await client.send(new DescribeImageScanFindingsCommand(input));
    const second = await client.send(
      new DescribeImageScanFindingsCommand({ ...input, nextToken: first.nextToken }),
    );
    expect(first.imageScanFindings?.findings?.map((finding) => finding.name)).toEqual([
      "CVE-2024-3094",
      "CVE-2023-4911",
      "CVE-2023-5678",
    ]);
    expect(second.imageScanFindings?.findings?.map((finding) => finding.name)).toEqual(["CVE-2022-0001"]);
    expect(second.nextToken).toBeUndefined();
    expect(second.imageScanFindings?.findingSeverityCounts).toEqual({ CRITICAL: 1, HIGH: 2, LOW: 1 });
  });

  it("answers ScanNotFoundException before a scan, and a bare status while it runs", async () => {
    ecr.putImage({ repositoryName: REPO, digest: DIGEST_B, tags: ["v2"] });
    const imageId = { imageDigest: DIGEST_B };
    await expect(
      client.send(new DescribeImageScanFindingsCommand({ repositoryName: REPO, imageId })),
    ).rejects.toBeInstanceOf(ScanNotFoundException);

    ecr.putScan(REPO, DIGEST_B, { status: "IN_PROGRESS", findings: [] });
    const running = await client.send(
      new DescribeImageScanFindingsCommand({ repositoryName: REPO, imageId }),
    );
    expect(running.imageScanStatus?.status).toBe("IN_PROGRESS");
    expect(running.imageScanFindings).toBeUndefined();

    ecr.putScan(REPO, DIGEST_B, { status: "COMPLETE", findings: [] });
    const clean = await client.send(new DescribeImageScanFindingsCommand({ repositoryName: REPO, imageId }));
    expect(clean.imageScanFindings?.findingSeverityCounts).toEqual({});
    expect(clean.imageScanFindings?.findings).toEqual([]);
  });

  it("refuses malformed seeds instead of serving them", () => {
    expect(() => ecr.putImage({ repositoryName: REPO, digest: "sha256:short" })).toThrow(/bad digest/);
    expect(() => ecr.putImage({ repositoryName: "Bad Name", digest: DIGEST_B })).toThrow(/repositoryName/);
    expect(() => ecr.putScan(REPO, DIGEST_B, { status: "COMPLETE", findings: [] })).toThrow(/no image/);
  });
});
