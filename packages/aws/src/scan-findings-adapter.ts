import { DescribeImageScanFindingsCommand, type ECRClient } from "@aws-sdk/client-ecr";
import { type Inspector2Client, ListFindingsCommand } from "@aws-sdk/client-inspector2";
import {
  type Finding,
  type ScanEvidence,
  type ScanFindingsPort,
  SEVERITIES,
  type SeverityCounts,
} from "@gantry/core";

/** ECR scan statuses that mean "no result yet": keep waiting (the timeout still applies). */
const PENDING_SCAN = new Set(["IN_PROGRESS", "PENDING"]);
const NO_SCAN_ERRORS = new Set([
  "ScanNotFoundException",
  "ImageNotFoundException",
  "RepositoryNotFoundException",
]);

/** Finding ids, read only when a CVE exception could change the verdict (gate.needsFindingIds). */
export class ScanFindingsAdapter implements ScanFindingsPort {
  constructor(
    private readonly ecr: ECRClient,
    private readonly inspector: Inspector2Client,
  ) {}

  async listFindings(input: {
    repository: string;
    digest: string;
    scanner: "basic" | "enhanced";
  }): Promise<Finding[]> {
    return input.scanner === "basic" ? this.#basic(input) : this.#enhanced(input);
  }

  async describeScan({
    repository,
    digest,
  }: {
    repository: string;
    digest: string;
  }): Promise<ScanEvidence | undefined> {
    try {
      const page = await this.ecr.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: repository,
          imageId: { imageDigest: digest },
          maxResults: 1,
        }),
      );
      const status = page.imageScanStatus?.status ?? "UNKNOWN";
      if (PENDING_SCAN.has(status)) return undefined;
      const raw = page.imageScanFindings?.findingSeverityCounts ?? {};
      const severityCounts = Object.fromEntries(
        SEVERITIES.map((severity) => [severity, raw[severity] ?? 0]),
      ) as SeverityCounts;
      // Enhanced scanning reports ACTIVE once Inspector has scanned the image.
      const succeeded = status === "COMPLETE" || status === "ACTIVE";
      const completedAt = page.imageScanFindings?.imageScanCompletedAt;
      return {
        scanner: status === "ACTIVE" ? "enhanced" : "basic",
        scanStatus: status,
        succeeded,
        severityCounts,
        ...(completedAt ? { scannedAt: completedAt.toISOString() } : {}),
      };
    } catch (error) {
      // No scan (yet), or the image or repository is gone: nothing to decide on; the timeout applies.
      if (NO_SCAN_ERRORS.has((error as Error).name)) return undefined;
      throw error;
    }
  }

  async #basic({ repository, digest }: { repository: string; digest: string }): Promise<Finding[]> {
    const findings: Finding[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecr.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: repository,
          imageId: { imageDigest: digest },
          nextToken,
        }),
      );
      for (const finding of page.imageScanFindings?.findings ?? []) {
        if (finding.name) findings.push({ id: finding.name, severity: finding.severity ?? "UNDEFINED" });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return findings;
  }

  async #enhanced({ repository, digest }: { repository: string; digest: string }): Promise<Finding[]> {
    const findings: Finding[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.inspector.send(
        new ListFindingsCommand({
          filterCriteria: {
            ecrImageRepositoryName: [{ comparison: "EQUALS", value: repository }],
            ecrImageHash: [{ comparison: "EQUALS", value: digest }],
            findingStatus: [{ comparison: "EQUALS", value: "ACTIVE" }],
          },
          nextToken,
        }),
      );
      for (const finding of page.findings ?? []) {
        const id = finding.packageVulnerabilityDetails?.vulnerabilityId ?? finding.title;
        if (id) findings.push({ id, severity: finding.severity ?? "UNTRIAGED" });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return findings;
  }
}
