import semver from "semver";
import type { TagFollow } from "./gantry-config.ts";

/**
 * Does a service following `follow` want an image pushed with `pushedTags`?
 * `currentTag` is the tag in the service's image identifier when Gantry last saw it (undefined when
 * the service is already pinned by digest: then Gantry remembers the tag it followed).
 */
export function followsTag(
  follow: TagFollow,
  pushedTags: readonly string[],
  currentTag: string | undefined,
): boolean {
  return pushedTags.some((tag) => followsOne(follow, tag, currentTag));
}

function followsOne(follow: TagFollow, tag: string, currentTag: string | undefined): boolean {
  switch (follow.kind) {
    case "current-tag":
      return currentTag !== undefined && tag === currentTag;
    case "exact":
      return tag === follow.tag;
    case "semver": {
      const version =
        semver.coerce(tag, { includePrerelease: true }) && semver.valid(semver.clean(tag) ?? "");
      return version !== null && semver.satisfies(version, follow.range, { includePrerelease: false });
    }
    case "pattern":
      return new RegExp(`^(?:${follow.pattern})$`).test(tag);
  }
}
