import { randomUUID } from "node:crypto";
import type { Clock } from "@gantry/core";

export interface InspectorFinding {
  /** CVE id, reported as `packageVulnerabilityDetails.vulnerabilityId`. */
  id: string;
  severity: string;
}

interface StringFilter {
  comparison?: string;
  value?: string;
}

interface ListFindingsInput {
  filterCriteria?: {
    ecrImageRepositoryName?: StringFilter[];
    ecrImageHash?: StringFilter[];
    findingStatus?: StringFilter[];
  };
  maxResults?: number;
  nextToken?: string;
}

const PAGE = 50;

/**
 * The slice of Amazon Inspector (restJson1, `POST /findings/list`) Gantry reads: the ACTIVE
 * package-vulnerability findings of one ECR image, when a CVE exception could change a verdict.
 */
export class Inspector2Emulator {
  readonly #images = new Map<string, InspectorFinding[]>();

  constructor(private readonly options: { accountId: string; region: string; clock: Clock }) {}

  putFindings(repository: string, digest: string, findings: InspectorFinding[]): void {
    this.#images.set(`${repository}@${digest}`, findings);
  }

  /** Routes for `AwsEmulatorServer`'s `restRoutes`. */
  routes(): Record<string, (input: unknown) => unknown> {
    return { "POST /findings/list": (input) => this.listFindings(input as ListFindingsInput) };
  }

  listFindings(input: ListFindingsInput): { findings: unknown[]; nextToken?: string } {
    const repository = equalsValue(input.filterCriteria?.ecrImageRepositoryName);
    const digest = equalsValue(input.filterCriteria?.ecrImageHash);
    const status = equalsValue(input.filterCriteria?.findingStatus);
    const matching = [...this.#images.entries()]
      .filter(
        ([key]) =>
          (!repository || key.startsWith(`${repository}@`)) && (!digest || key.endsWith(`@${digest}`)),
      )
      .flatMap(([key, findings]) => findings.map((finding) => this.#wire(key, finding)))
      .filter((finding) => !status || finding.status === status);
    const start = Number(input.nextToken ?? 0);
    const size = Math.min(input.maxResults ?? PAGE, PAGE);
    const page = matching.slice(start, start + size);
    return { findings: page, ...(start + size < matching.length ? { nextToken: String(start + size) } : {}) };
  }

  #wire(key: string, finding: InspectorFinding) {
    const [repository, digest] = key.split("@") as [string, string];
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    const { accountId, region } = this.options;
    return {
      awsAccountId: accountId,
      findingArn: `arn:aws:inspector2:${region}:${accountId}:finding/${randomUUID().replaceAll("-", "")}`,
      description: `${finding.id} in ${repository}`,
      title: finding.id,
      type: "PACKAGE_VULNERABILITY",
      severity: finding.severity,
      status: "ACTIVE",
      firstObservedAt: now,
      lastObservedAt: now,
      remediation: {},
      packageVulnerabilityDetails: { vulnerabilityId: finding.id, source: "NVD", vulnerablePackages: [] },
      resources: [
        {
          type: "AWS_ECR_CONTAINER_IMAGE",
          id: `arn:aws:ecr:${region}:${accountId}:repository/${repository}/${digest}`,
          details: {
            awsEcrContainerImage: { repositoryName: repository, imageHash: digest, registry: accountId },
          },
        },
      ],
    };
  }
}

function equalsValue(filters: StringFilter[] | undefined): string | undefined {
  return filters?.find((filter) => filter.comparison === "EQUALS")?.value;
}
