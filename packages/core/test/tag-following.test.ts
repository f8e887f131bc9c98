import { describe, expect, it } from "vitest";
import {
  currentTag,
  followsTag,
  InvalidImageIdentifierError,
  imageIdentifierByDigest,
  type ManagedService,
  parseGantryConfig,
  parseImageIdentifier,
  resolvePolicy,
  tracksRepository,
} from "../src/index.ts";

const registry = "111122223333.dkr.ecr.us-east-1.amazonaws.com";
const service = (imageIdentifier: string, tags: Record<string, string> = {}): ManagedService => ({
  serviceArn: "arn:aws:apprunner:us-east-1:111122223333:service/web/0123456789abcdef0123456789abcdef",
  serviceName: "web",
  status: "RUNNING",
  imageIdentifier,
  autoDeploymentsEnabled: false,
  tags: { "gantry:managed": "true", ...tags },
});

describe("followsTag", () => {
  it.each([
    [{ kind: "current-tag" }, ["prod"], "prod", true],
    [{ kind: "current-tag" }, ["dev"], "prod", false],
    [{ kind: "current-tag" }, ["prod"], undefined, false],
    [{ kind: "exact", tag: "stable" }, ["x", "stable"], undefined, true],
    [{ kind: "semver", range: "^1.2.0" }, ["1.4.0"], undefined, true],
    [{ kind: "semver", range: "^1.2.0" }, ["v1.9.9"], undefined, true],
    [{ kind: "semver", range: "^1.2.0" }, ["2.0.0"], undefined, false],
    [{ kind: "semver", range: "^1.2.0" }, ["1.3.0-rc.1"], undefined, false],
    [{ kind: "semver", range: "^1.2.0" }, ["latest"], undefined, false],
    [{ kind: "pattern", pattern: "release-\\d+" }, ["release-42"], undefined, true],
    [{ kind: "pattern", pattern: "release-\\d+" }, ["release-42-hotfix"], undefined, false],
    [{ kind: "exact", tag: "stable" }, [], undefined, false],
  ] as const)("%j with %j (current %s) → %s", (follow, tags, current, expected) => {
    expect(followsTag(follow, tags, current)).toBe(expected);
  });
});

describe("image identifiers", () => {
  it("parses tag and digest forms and rebuilds the digest form", () => {
    expect(parseImageIdentifier(`${registry}/team/web:prod`)).toEqual({
      registry,
      repository: "team/web",
      tag: "prod",
    });
    expect(parseImageIdentifier(`${registry}/web@sha256:abc123`)).toEqual({
      registry,
      repository: "web",
      digest: "sha256:abc123",
    });
    expect(imageIdentifierByDigest({ registry, repository: "team/web" }, "sha256:abc")).toBe(
      `${registry}/team/web@sha256:abc`,
    );
  });

  it.each(["web", `${registry}/`, `${registry}/web@md5:zz`, `${registry}/web:`])(
    "rejects %s",
    (identifier) => {
      expect(() => parseImageIdentifier(identifier)).toThrowError(InvalidImageIdentifierError);
    },
  );
});

describe("managed services", () => {
  it("tracks by registry and repository, not just the name", () => {
    const image = { account: "111122223333", region: "us-east-1", repositoryName: "web" };
    expect(tracksRepository(service(`${registry}/web:prod`), image)).toBe(true);
    expect(tracksRepository(service(`${registry}/web:prod`), { ...image, region: "eu-west-1" })).toBe(false);
    expect(tracksRepository(service(`${registry}/web-2:prod`), image)).toBe(false);
  });

  it("a digest-pinned service keeps following the gantry:tag tag or its last release's tag", () => {
    expect(currentTag(service(`${registry}/web@sha256:abc`, { "gantry:tag": "prod" }))).toBe("prod");
    expect(currentTag(service(`${registry}/web@sha256:abc`), ["main"])).toBe("main");
    expect(currentTag(service(`${registry}/web:prod`), ["main"])).toBe("prod");
  });

  it("an unknown policy name never falls back to the default", () => {
    const config = parseGantryConfig({});
    const resolution = resolvePolicy(config, service(`${registry}/web:prod`, { "gantry:policy": "strictt" }));
    expect(resolution).toMatchObject({ ok: false, policyName: "strictt" });
    expect(resolvePolicy(config, service(`${registry}/web:prod`))).toMatchObject({
      ok: true,
      policyName: "default",
    });
  });
});
