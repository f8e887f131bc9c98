/**
 * App Runner image identifiers: `<registry>/<repository>[:tag|@sha256:digest]` (FACTS §3).
 * Private ECR registries look like `<account>.dkr.ecr.<region>.amazonaws.com`.
 */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export class InvalidImageIdentifierError extends Error {
  constructor(identifier: string, why: string) {
    super(`Invalid image identifier "${identifier}": ${why}`);
    this.name = "InvalidImageIdentifierError";
  }
}

export function parseImageIdentifier(identifier: string): ImageRef {
  const slash = identifier.indexOf("/");
  if (slash <= 0) throw new InvalidImageIdentifierError(identifier, "expected <registry>/<repository>");
  const registry = identifier.slice(0, slash);
  let rest = identifier.slice(slash + 1);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[A-Za-z0-9]+$/.test(digest))
      throw new InvalidImageIdentifierError(identifier, "bad digest");
  }
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tag) throw new InvalidImageIdentifierError(identifier, "empty tag");
  }
  if (!rest) throw new InvalidImageIdentifierError(identifier, "empty repository");
  return { registry, repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The immutable reference Gantry deploys: never a mutable tag. */
export function imageIdentifierByDigest(
  ref: Pick<ImageRef, "registry" | "repository">,
  digest: string,
): string {
  return `${ref.registry}/${ref.repository}@${digest}`;
}

export function ecrRegistry(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com`;
}
