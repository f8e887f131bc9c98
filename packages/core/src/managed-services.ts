import type { GantryConfig, GatePolicy } from "./gantry-config.ts";
import { ecrRegistry, parseImageIdentifier } from "./image-ref.ts";
import type { ManagedService } from "./ports.ts";

export const TAG_MANAGED = "gantry:managed";
export const TAG_POLICY = "gantry:policy";
/** Optional: the tag a digest-pinned service follows (its identifier no longer shows one). */
export const TAG_FOLLOW = "gantry:tag";

export type PolicyResolution =
  | { ok: true; policyName: string; policy: GatePolicy }
  | { ok: false; policyName: string; reason: string };

/** Unknown policy → "never deploy" plus a warning; never a silent default (DESIGN.md). */
export function resolvePolicy(config: GantryConfig, service: ManagedService): PolicyResolution {
  const policyName = service.tags[TAG_POLICY] ?? config.defaultPolicy;
  const policy = config.policies[policyName];
  if (!policy) {
    return {
      ok: false,
      policyName,
      reason: `unknown policy "${policyName}" on tag ${TAG_POLICY}: nothing will be deployed to this service`,
    };
  }
  return { ok: true, policyName, policy };
}

export function isManaged(tags: Record<string, string>): boolean {
  return tags[TAG_MANAGED] === "true";
}

/** Does this service run images from `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`? */
export function tracksRepository(
  service: ManagedService,
  image: { account: string; region: string; repositoryName: string },
): boolean {
  try {
    const ref = parseImageIdentifier(service.imageIdentifier);
    return (
      ref.registry === ecrRegistry(image.account, image.region) && ref.repository === image.repositoryName
    );
  } catch {
    return false;
  }
}

/** The tag a service follows under `current-tag`: its identifier's tag, else the `gantry:tag` tag. */
export function currentTag(
  service: ManagedService,
  lastReleaseTags: readonly string[] = [],
): string | undefined {
  try {
    const ref = parseImageIdentifier(service.imageIdentifier);
    if (ref.tag) return ref.tag;
  } catch {
    // an unparsable identifier follows nothing
    return undefined;
  }
  return service.tags[TAG_FOLLOW] ?? lastReleaseTags[0];
}
