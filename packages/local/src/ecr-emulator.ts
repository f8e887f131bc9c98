import type { Clock } from "@gantry/core";
import { type AwsJsonHandler, type EmulatorCall, recordCall } from "./aws-emulator-server.ts";
import { AwsApiError, type AwsModel, formatIssues, loadEcrModel } from "./aws-model.ts";

/** ECR's `ScanStatus` enum (model, FACTS §2). */
export type EcrScanStatus =
  | "IN_PROGRESS"
  | "COMPLETE"
  | "FAILED"
  | "UNSUPPORTED_IMAGE"
  | "ACTIVE"
  | "PENDING"
  | "SCAN_ELIGIBILITY_EXPIRED"
  | "FINDINGS_UNAVAILABLE"
  | "LIMIT_EXCEEDED"
  | "IMAGE_ARCHIVED";
export type EcrFindingSeverity = "INFORMATIONAL" | "LOW" | "MEDIUM" | "HIGH" | "CRITICAL" | "UNDEFINED";

export interface EcrFinding {
  /** The vulnerability id, e.g. `CVE-2024-3094`. */
  name: string;
  severity: EcrFindingSeverity;
  description?: string;
  uri?: string;
  /** Reported as the `package_name` / `package_version` attributes, as basic scanning does. */
  packageName?: string;
  packageVersion?: string;
}

export interface EcrScan {
  status: EcrScanStatus;
  findings: EcrFinding[];
  /** `imageScanStatus.description`; a default text is used when absent. */
  description?: string;
  completedAt?: Date;
}

export interface PutImageInput {
  repositoryName: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  /** A tag already on another image of the repository moves to this one (mutable tags). */
  tags?: string[];
  pushedAt?: Date;
  sizeInBytes?: number;
  scan?: EcrScan;
}

export interface EcrEmulatorOptions {
  accountId: string;
  region: string;
  /** For default push and scan times (default: the system clock). */
  clock?: Clock;
  /** The ECR model to validate against (default: the copy in test/fixtures/aws-models). */
  model?: AwsModel;
}

interface ImageRecord {
  digest: string;
  tags: string[];
  pushedAt: Date;
  sizeInBytes: number;
  scan: EcrScan | undefined;
}

interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

interface DescribeImagesInput {
  registryId?: string;
  repositoryName: string;
  imageIds?: ImageId[];
  nextToken?: string;
  maxResults?: number;
  filter?: { tagStatus?: "TAGGED" | "UNTAGGED" | "ANY" };
}

interface DescribeImageScanFindingsInput {
  registryId?: string;
  repositoryName: string;
  imageId: ImageId;
  nextToken?: string;
  maxResults?: number;
}

type Json = Record<string, unknown>;

/** Both list APIs return up to 100 results without maxResults (ECR API reference). */
const DEFAULT_PAGE_SIZE = 100;

/**
 * The local ECR: the read side Gantry needs (DescribeImages, DescribeImageScanFindings) over images
 * and scan results that a scenario puts in with `putImage` / `putScan`.
 */
export class EcrEmulator implements AwsJsonHandler {
  readonly targetPrefix: string;
  readonly jsonVersion: string;
  readonly calls: EmulatorCall[] = [];
  readonly model: AwsModel;
  /** `<account>.dkr.ecr.<region>.amazonaws.com`, the host part of image identifiers. */
  readonly registryUri: string;
  readonly #accountId: string;
  readonly #clock: Clock;
  readonly #repositories = new Map<string, ImageRecord[]>();
  readonly #api: Record<string, (input: Json) => Json> = {
    DescribeImages: (input) => this.#describeImages(input as unknown as DescribeImagesInput),
    DescribeImageScanFindings: (input) =>
      this.#describeImageScanFindings(input as unknown as DescribeImageScanFindingsInput),
  };

  constructor(options: EcrEmulatorOptions) {
    this.model = options.model ?? loadEcrModel();
    this.targetPrefix = this.model.targetPrefix;
    this.jsonVersion = this.model.jsonVersion;
    this.#accountId = options.accountId;
    this.#clock = options.clock ?? { now: () => new Date() };
    this.registryUri = `${options.accountId}.dkr.ecr.${options.region}.amazonaws.com`;
  }

  createRepository(repositoryName: string): void {
    this.#checkRepositoryName(repositoryName);
    if (!this.#repositories.has(repositoryName)) this.#repositories.set(repositoryName, []);
  }

  /** Records a pushed image (creating the repository if needed); pushing a digest again updates it. */
  putImage(input: PutImageInput): void {
    this.createRepository(input.repositoryName);
    if (!/^sha256:[0-9a-f]{64}$/.test(input.digest)) throw new Error(`putImage: bad digest ${input.digest}`);
    const images = this.#repositories.get(input.repositoryName) ?? [];
    const tags = input.tags ?? [];
    for (const image of images) image.tags = image.tags.filter((tag) => !tags.includes(tag));
    const existing = images.find((image) => image.digest === input.digest);
    const record: ImageRecord = {
      digest: input.digest,
      tags: [...new Set([...(existing?.tags ?? []), ...tags])],
      pushedAt: input.pushedAt ?? existing?.pushedAt ?? this.#clock.now(),
      sizeInBytes: input.sizeInBytes ?? existing?.sizeInBytes ?? 31_457_280,
      scan: input.scan ?? existing?.scan,
    };
    this.#repositories.set(input.repositoryName, [...images.filter((image) => image !== existing), record]);
  }

  /** Sets or replaces the scan result of an image already pushed (a scan finishing later). */
  putScan(repositoryName: string, digest: string, scan: EcrScan): void {
    const image = this.#repositories.get(repositoryName)?.find((candidate) => candidate.digest === digest);
    if (!image) throw new Error(`putScan: no image ${repositoryName}@${digest}`);
    image.scan = scan;
  }

  async handle(operation: string, input: unknown): Promise<unknown> {
    return recordCall(this.calls, { op: operation, input, at: this.#clock.now() }, async () => {
      const answer = Object.hasOwn(this.#api, operation) ? this.#api[operation] : undefined;
      if (!answer) {
        throw new AwsApiError(
          "UnknownOperationException",
          `Operation ${operation} is not supported by the emulator`,
        );
      }
      const issues = this.model.validateInput(operation, input);
      if (issues.length > 0) throw this.#invalid(`Invalid input: ${formatIssues(issues)}`);
      return answer(input as Json);
    });
  }

  #describeImages(input: DescribeImagesInput): Json {
    const images = this.#repository(input.registryId, input.repositoryName);
    if (input.imageIds) {
      // "This option cannot be used when you specify images with imageIds" (maxResults/nextToken doc).
      if (input.maxResults !== undefined || input.nextToken !== undefined) {
        throw this.#invalid("maxResults and nextToken cannot be used with imageIds");
      }
      const found = input.imageIds.map((id) => this.#image(images, input.repositoryName, id));
      return { imageDetails: [...new Set(found)].map((image) => this.#detail(input.repositoryName, image)) };
    }
    const tagStatus = input.filter?.tagStatus ?? "ANY";
    const listed = images.filter(
      (image) => tagStatus === "ANY" || (tagStatus === "TAGGED") === image.tags.length > 0,
    );
    const { page, nextToken } = this.#page(listed, input);
    return { imageDetails: page.map((image) => this.#detail(input.repositoryName, image)), ...nextToken };
  }

  #describeImageScanFindings(input: DescribeImageScanFindingsInput): Json {
    const images = this.#repository(input.registryId, input.repositoryName);
    const image = this.#image(images, input.repositoryName, input.imageId);
    if (!image.scan) {
      throw this.model.error(
        "ScanNotFoundException",
        `Image scan does not exist for the image with '{imageDigest:'${image.digest}'}' in the repository with name '${input.repositoryName}' in the registry with id '${this.#accountId}'`,
      );
    }
    const imageId = {
      imageDigest: image.digest,
      ...(input.imageId.imageTag ? { imageTag: input.imageId.imageTag } : {}),
    };
    const base = { registryId: this.#accountId, repositoryName: input.repositoryName, imageId };
    const { scan } = image;
    const imageScanStatus = {
      status: scan.status,
      description: scan.description ?? scanDescription(scan.status),
    };
    if (scan.status !== "COMPLETE" && scan.status !== "ACTIVE") return { ...base, imageScanStatus };
    const { page, nextToken } = this.#page(scan.findings, input);
    const completedAt = epochSeconds(scan.completedAt ?? image.pushedAt);
    const imageScanFindings = {
      imageScanCompletedAt: completedAt,
      vulnerabilitySourceUpdatedAt: completedAt,
      findingSeverityCounts: severityCounts(scan.findings),
      findings: page.map(toFinding),
    };
    return { ...base, imageScanStatus, imageScanFindings, ...nextToken };
  }

  #repository(registryId: string | undefined, name: string): ImageRecord[] {
    const images =
      registryId === undefined || registryId === this.#accountId ? this.#repositories.get(name) : undefined;
    if (!images) {
      throw this.model.error(
        "RepositoryNotFoundException",
        `The repository with name '${name}' does not exist in the registry with id '${registryId ?? this.#accountId}'`,
      );
    }
    return images;
  }

  /** An image by digest, tag or both (both must name the same image). */
  #image(images: ImageRecord[], repositoryName: string, id: ImageId): ImageRecord {
    const image = images.find(
      (candidate) =>
        (id.imageDigest !== undefined || id.imageTag !== undefined) &&
        (id.imageDigest === undefined || candidate.digest === id.imageDigest) &&
        (id.imageTag === undefined || candidate.tags.includes(id.imageTag)),
    );
    if (image) return image;
    throw this.model.error(
      "ImageNotFoundException",
      `The image with imageId {imageDigest:'${id.imageDigest ?? "null"}', imageTag:'${id.imageTag ?? "null"}'} does not exist within the repository with name '${repositoryName}' in the registry with id '${this.#accountId}'`,
    );
  }

  /**
   * DescribeImages leaves out `imageScanStatus` / `imageScanFindingsSummary`: with the improved
   * basic scanning AWS does not fill them, and clients must use DescribeImageScanFindings (FACTS §2).
   */
  #detail(repositoryName: string, image: ImageRecord): Json {
    return {
      registryId: this.#accountId,
      repositoryName,
      imageDigest: image.digest,
      ...(image.tags.length > 0 ? { imageTags: [...image.tags] } : {}),
      imageSizeInBytes: image.sizeInBytes,
      imagePushedAt: epochSeconds(image.pushedAt),
      imageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
      imageStatus: "ACTIVE",
    };
  }

  #page<T>(items: T[], input: { nextToken?: string; maxResults?: number }): { page: T[]; nextToken: Json } {
    const start = input.nextToken === undefined ? 0 : this.#decodeToken(input.nextToken);
    const end = start + (input.maxResults ?? DEFAULT_PAGE_SIZE);
    const nextToken =
      end < items.length ? { nextToken: Buffer.from(`ecr:${end}`).toString("base64url") } : {};
    return { page: items.slice(start, end), nextToken };
  }

  #decodeToken(token: string): number {
    const match = /^ecr:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
    if (!match) throw this.#invalid(`nextToken is not valid: ${token}`);
    return Number(match[1]);
  }

  #checkRepositoryName(name: string): void {
    const issues = this.model.validate("RepositoryName", name, "repositoryName");
    if (issues.length > 0) throw new Error(`EcrEmulator: ${formatIssues(issues)}`);
  }

  #invalid(message: string): AwsApiError {
    return this.model.error("InvalidParameterException", message);
  }
}

/** Only severities that occur are counted: a missing key means zero (FACTS §2). */
function severityCounts(findings: EcrFinding[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const finding of findings) counts[finding.severity] = (counts[finding.severity] ?? 0) + 1;
  return counts;
}

function toFinding(finding: EcrFinding): Json {
  const attributes = [
    ...(finding.packageVersion ? [{ key: "package_version", value: finding.packageVersion }] : []),
    ...(finding.packageName ? [{ key: "package_name", value: finding.packageName }] : []),
  ];
  return {
    name: finding.name,
    severity: finding.severity,
    ...(finding.description ? { description: finding.description } : {}),
    ...(finding.uri ? { uri: finding.uri } : {}),
    attributes,
  };
}

function scanDescription(status: EcrScanStatus): string {
  if (status === "COMPLETE") return "The scan was completed successfully.";
  if (status === "IN_PROGRESS" || status === "PENDING") return "The scan is in progress.";
  return `The scan ended with status ${status}.`;
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
