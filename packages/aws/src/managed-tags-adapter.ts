import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { TAG_MANAGED } from "@gantry/core";
import { type ManagedTagsPort, tagRecord } from "./fleet-discovery.ts";

/** GetResources returns at most 100 resources per call (`ResourcesPerPage`, 1–100). */
const GET_RESOURCES_PAGE = 100;
/**
 * `service[:resourceType]` as embedded in the ARN (`arn:aws:apprunner:<region>:<account>:service/…`):
 * https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
 */
const APP_RUNNER_SERVICE_TYPE = "apprunner:service";

/**
 * The managed services and their tags from the Resource Groups Tagging API: ⌈managed / 100⌉ calls
 * (`tag:GetResources`, its own rate limits, not App Runner's) instead of one App Runner
 * ListTagsForResource per service. GetResources supports every resource type
 * (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html).
 */
export class ManagedTagsAdapter implements ManagedTagsPort {
  constructor(private readonly client: ResourceGroupsTaggingAPIClient) {}

  async managedServiceTags(): Promise<Map<string, Record<string, string>>> {
    const managed = new Map<string, Record<string, string>>();
    let PaginationToken: string | undefined;
    do {
      const page = await this.client.send(
        new GetResourcesCommand({
          TagFilters: [{ Key: TAG_MANAGED, Values: ["true"] }],
          ResourceTypeFilters: [APP_RUNNER_SERVICE_TYPE],
          ResourcesPerPage: GET_RESOURCES_PAGE,
          ...(PaginationToken ? { PaginationToken } : {}),
        }),
      );
      for (const mapping of page.ResourceTagMappingList ?? []) {
        if (!mapping.ResourceARN) continue;
        managed.set(mapping.ResourceARN, tagRecord(mapping.Tags ?? []));
      }
      // The last page answers with an empty token ("null" in the API reference).
      PaginationToken = page.PaginationToken || undefined;
    } while (PaginationToken);
    return managed;
  }
}
