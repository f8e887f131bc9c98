import { DescribeImageScanFindingsCommand, type ECRClient } from "@aws-sdk/client-ecr";
import { type Inspector2Client, ListFindingsCommand } from "@aws-sdk/client-inspector2";
import type { Finding, ScanFindingsPort } from "@gantry/core";

/** Finding ids, read only when a CVE exception could change the verdict (gate.needsFindingIds). */
export class ScanFindingsAdapter implements ScanFindingsPort {
  constructor(
    private readonly ecr: ECRClient,
    private readonly inspector: Inspector2Client,
  ) {}

  async listFindings(input: { repository: string; digest: string; scanner: "basic" | "enhanced" }): Promise<Finding[]> {
    return input.scanner === "basic" ? this.#basic(input) : this.#enhanced(input);
  }

  async #basic({ repository, digest }: { repository: string; digest: string }): Promise<Finding[]> {
    const findings: Finding[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecr.send(
        new DescribeImageScanFindingsCommand({ repositoryName: repository, imageId: { imageDigest: digest }, nextToken }),
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
