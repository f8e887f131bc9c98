import type { AppRunnerEmulator } from "./apprunner-emulator.ts";
import { type AwsJsonHandler, type EmulatorCall, recordCall } from "./aws-emulator-server.ts";
import { AwsApiError } from "./aws-model.ts";

/**
 * The request constraints of GetResources, from the API reference
 * (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html):
 * up to 50 tag filters of up to 20 values each; keys 1–128 characters, values up to 256;
 * `ResourcesPerPage` 1–100; `TagsPerPage` 100–500; up to 100 resource types of up to 256
 * characters; `ResourceARNList` 1–100 ARNs and never with a pagination parameter; tokens up to
 * 2,048 characters.
 */
const LIMITS = {
  tagFilters: 50,
  values: 20,
  keyLength: 128,
  valueLength: 256,
  resourcesPerPage: [1, 100],
  tagsPerPage: [100, 500],
  resourceTypes: 100,
  resourceTypeLength: 256,
  arns: 100,
  tokenLength: 2048,
} as const;

/** The page size when `ResourcesPerPage` is not given (AWS does not document it). */
const DEFAULT_PAGE = 100;
const TOKEN_PREFIX = "tagging:";

interface TagFilter {
  Key?: string;
  Values?: string[];
}

interface GetResourcesInput {
  PaginationToken?: string;
  TagFilters?: TagFilter[];
  ResourcesPerPage?: number;
  TagsPerPage?: number;
  ResourceTypeFilters?: string[];
  ResourceARNList?: string[];
  IncludeComplianceDetails?: boolean;
  ExcludeCompliantResources?: boolean;
}

/**
 * The local Resource Groups Tagging API (awsJson1_1, `ResourceGroupsTaggingAPI_20170126`), served
 * next to the App Runner emulator: GetResources over the emulator's services and their tags,
 * which is how discovery finds managed services at fleet scale. Like AWS's, it may go on listing a
 * service that was tagged and then deleted (https://github.com/aws/aws-sdk/issues/302): Gantry
 * must take what exists from ListServices.
 */
export class TaggingEmulator implements AwsJsonHandler {
  readonly targetPrefix = "ResourceGroupsTaggingAPI_20170126";
  readonly jsonVersion = "1.1";
  /** Every call with its input and output or error, in arrival order. */
  readonly calls: EmulatorCall[] = [];

  constructor(private readonly appRunner: AppRunnerEmulator) {}

  async handle(operation: string, input: unknown): Promise<unknown> {
    return recordCall(this.calls, { op: operation, input, at: new Date() }, async () => {
      if (operation !== "GetResources") {
        throw new AwsApiError(
          "UnknownOperationException",
          `Operation ${operation} is not supported by the emulator`,
        );
      }
      return this.#getResources(validGetResources(input));
    });
  }

  #getResources(input: GetResourcesInput): unknown {
    const wanted = input.ResourceARNList ? new Set(input.ResourceARNList) : undefined;
    const matching = this.appRunner
      .taggedServices()
      .filter((service) => !wanted || wanted.has(service.arn))
      .filter((service) => ofTypes(service.arn, input.ResourceTypeFilters))
      .filter((service) => (input.TagFilters ?? []).every((filter) => matches(service.tags, filter)))
      // Without tag filters AWS lists what is or ever was tagged; with none at all, nothing to list.
      .filter((service) => (input.TagFilters?.length ?? 0) > 0 || Object.keys(service.tags).length > 0);
    const offset = input.PaginationToken ? offsetOf(input.PaginationToken) : 0;
    const size = input.ResourcesPerPage ?? DEFAULT_PAGE;
    const page = matching.slice(offset, offset + size);
    const next = offset + size < matching.length ? `${TOKEN_PREFIX}${offset + size}` : "";
    return {
      // The last page carries an empty token, as AWS answers.
      PaginationToken: next ? Buffer.from(next).toString("base64url") : "",
      ResourceTagMappingList: page.map((service) => ({
        ResourceARN: service.arn,
        Tags: Object.entries(service.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  }
}

function invalid(message: string): AwsApiError {
  return new AwsApiError("InvalidParameterException", message);
}

function validGetResources(raw: unknown): GetResourcesInput {
  if (typeof raw !== "object" || raw === null) throw invalid("The request body must be a JSON object");
  const input = raw as GetResourcesInput;
  const filters = input.TagFilters ?? [];
  if (filters.length > LIMITS.tagFilters) throw invalid(`TagFilters: at most ${LIMITS.tagFilters} filters`);
  for (const filter of filters) {
    const key = filter.Key ?? "";
    if (key.length < 1 || key.length > LIMITS.keyLength)
      throw invalid("TagFilters: every filter needs a Key of 1-128 characters");
    const values = filter.Values ?? [];
    if (values.length > LIMITS.values) throw invalid(`TagFilters: at most ${LIMITS.values} values per key`);
    if (values.some((value) => value.length > LIMITS.valueLength))
      throw invalid("TagFilters: values are at most 256 characters");
  }
  const perPage = input.ResourcesPerPage;
  if (perPage !== undefined && !inRange(perPage, LIMITS.resourcesPerPage))
    throw invalid("ResourcesPerPage must be 1-100");
  const tagsPerPage = input.TagsPerPage;
  if (tagsPerPage !== undefined && !inRange(tagsPerPage, LIMITS.tagsPerPage))
    throw invalid("TagsPerPage must be 100-500");
  const types = input.ResourceTypeFilters ?? [];
  if (types.length > LIMITS.resourceTypes || types.some((type) => type.length > LIMITS.resourceTypeLength)) {
    throw invalid("ResourceTypeFilters: at most 100 types of at most 256 characters");
  }
  if (input.ResourceARNList) {
    if (input.ResourceARNList.length < 1 || input.ResourceARNList.length > LIMITS.arns)
      throw invalid("ResourceARNList: 1-100 ARNs");
    if (input.PaginationToken || perPage !== undefined || tagsPerPage !== undefined) {
      throw invalid(
        "ResourceARNList cannot be combined with ResourcesPerPage, TagsPerPage or PaginationToken",
      );
    }
  }
  if ((input.PaginationToken?.length ?? 0) > LIMITS.tokenLength) throw invalid("PaginationToken is too long");
  return input;
}

function inRange(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** `service[:resourceType]`, as embedded in the ARN: `apprunner` or `apprunner:service`. */
function ofTypes(arn: string, types: string[] | undefined): boolean {
  if (!types || types.length === 0) return true;
  const [, , service, , , resource] = arn.split(":");
  const resourceType = resource?.split("/")[0];
  return types.some((type) => type === service || type === `${service}:${resourceType}`);
}

/** A key with values matches any of them; a key without values matches the key with any value. */
function matches(tags: Record<string, string>, filter: TagFilter): boolean {
  const value = tags[filter.Key ?? ""];
  if (value === undefined) return false;
  return !filter.Values || filter.Values.length === 0 || filter.Values.includes(value);
}

function offsetOf(token: string): number {
  const decoded = Buffer.from(token, "base64url").toString("utf8");
  const offset = Number(decoded.slice(TOKEN_PREFIX.length));
  if (!decoded.startsWith(TOKEN_PREFIX) || !Number.isInteger(offset) || offset < 0) {
    throw invalid(`PaginationToken is not valid: ${token}`);
  }
  return offset;
}
