import {
  ResourceGroupsTaggingAPIClient,
  type ResourceGroupsTaggingAPIClientConfig,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { ManagedTagsAdapter, type ManagedTagsPort } from "@gantry/aws";

/**
 * Loaded on first use (`lazyPort`): only a discovery walk asks the tagging API which services are
 * managed, and most invocations reuse a recent walk from the fleet index.
 */
export function buildManagedTagsPort(clientConfig: ResourceGroupsTaggingAPIClientConfig): ManagedTagsPort {
  return new ManagedTagsAdapter(new ResourceGroupsTaggingAPIClient(clientConfig));
}
