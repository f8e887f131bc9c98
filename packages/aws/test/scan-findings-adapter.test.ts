import { DescribeImageScanFindingsCommand, ECRClient } from "@aws-sdk/client-ecr";
import { Inspector2Client } from "@aws-sdk/client-inspector2";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import "aws-sdk-client-mock-vitest/extend";
import { ScanFindingsAdapter } from "../src/scan-findings-adapter.ts";

const ecr = mockClient(ECRClient);
const adapter = new ScanFindingsAdapter(
  new ECRClient({ region: "us-east-1" }),
  new Inspector2Client({ region: "us-east-1" }),
);

beforeEach(() => ecr.reset());

describe("ScanFindingsAdapter.describeScan", () => {
  it("returns every severity's count and when ECR completed the scan", async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves({
      imageScanStatus: { status: "ACTIVE" },
      imageScanFindings: {
        imageScanCompletedAt: new Date("2026-11-30T08:00:00Z"),
        findingSeverityCounts: { CRITICAL: 1, LOW: 28 },
      },
    });
    const scan = await adapter.describeScan({ repository: "web", digest: "sha256:abc" });
    expect(scan).toEqual({
      scanner: "enhanced",
      scanStatus: "ACTIVE",
      succeeded: true,
      scannedAt: "2026-11-30T08:00:00.000Z",
      severityCounts: { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 28, INFORMATIONAL: 0, UNDEFINED: 0 },
    });
    expect(ecr).toHaveReceivedCommandWith(DescribeImageScanFindingsCommand, {
      repositoryName: "web",
      imageId: { imageDigest: "sha256:abc" },
    });
  });

  it("has no result while the scan is in progress, or when there is no scan", async () => {
    ecr.on(DescribeImageScanFindingsCommand).resolves({ imageScanStatus: { status: "IN_PROGRESS" } });
    expect(await adapter.describeScan({ repository: "web", digest: "sha256:abc" })).toBeUndefined();
    ecr.reset();
    ecr
      .on(DescribeImageScanFindingsCommand)
      .rejects(Object.assign(new Error("no scan"), { name: "ScanNotFoundException" }));
    expect(await adapter.describeScan({ repository: "web", digest: "sha256:abc" })).toBeUndefined();
  });
});
