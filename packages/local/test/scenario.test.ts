import { describe, expect, it } from "vitest";
import { parseScenario, ScenarioError, scenarioRegistry } from "../src/scenario.ts";

const DIGEST = `sha256:${"a".repeat(64)}`;
const service = (image: string, extra: Record<string, unknown> = {}) => ({ name: "web", image, ...extra });
const errorOf = (raw: unknown): string => {
  try {
    parseScenario(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error("expected a ScenarioError");
};

describe("scenario service images: repository form or a full private ECR identifier", () => {
  it("a full ECR identifier names the account and region the sandbox runs in", () => {
    const scenario = parseScenario({
      services: [
        service("123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name:latest"),
        { name: "api", image: "api:prod" },
      ],
    });
    expect(scenarioRegistry(scenario)).toEqual({ accountId: "123456789012", region: "us-west-2" });
  });

  it("accepts digest identifiers and nested repositories", () => {
    const scenario = parseScenario({
      services: [service(`123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/web@${DIGEST}`)],
    });
    expect(scenarioRegistry(scenario)).toEqual({ accountId: "123456789012", region: "eu-central-1" });
  });

  it("repository-only images leave the sandbox's default account and region", () => {
    expect(
      scenarioRegistry(parseScenario({ services: [service("web:prod"), service(`web@${DIGEST}`)] })),
    ).toBe(undefined);
  });

  it("refuses services in two registries: one sandbox is one account's default bus in one region", () => {
    const message = errorOf({
      services: [
        service("123456789012.dkr.ecr.us-west-2.amazonaws.com/web:prod"),
        { name: "api", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:prod" },
      ],
    });
    expect(message).toMatch(/services\.1\.image/);
    expect(message).toMatch(/123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com/);
  });

  it("refuses registries that are not private ECR, saying what is accepted", () => {
    for (const image of ["public.ecr.aws/nginx/nginx:latest", "ghcr.io/acme/web:1", "localhost:5000/web:1"]) {
      expect(errorOf({ services: [service(image)] })).toMatch(
        /services\.0\.image: .*<account>\.dkr\.ecr\.<region>\.amazonaws\.com\/<repository>/,
      );
    }
  });

  it("refuses an identifier without a repository or with a bad digest", () => {
    expect(errorOf({ services: [service("123456789012.dkr.ecr.us-west-2.amazonaws.com/")] })).toMatch(
      /services\.0\.image/,
    );
    expect(errorOf({ services: [service("web@sha256:xyz!")] })).toMatch(/services\.0\.image/);
  });
});

describe("scenario faults: op names and what they imply", () => {
  it("accepts API names and operation types alike", () => {
    const scenario = parseScenario({
      services: [
        service("web:prod", {
          faults: [
            { op: "UpdateService", outcome: "fail-rollback" },
            { op: "UPDATE_SERVICE", outcome: "throttle" },
            { op: "StartDeployment", outcome: "fail" },
            { op: "DescribeService", outcome: "error-5xx" },
          ],
        }),
      ],
    });
    expect(scenario.services[0]?.faults.map((fault) => fault.op)).toEqual([
      "UpdateService",
      "UPDATE_SERVICE",
      "StartDeployment",
      "DescribeService",
    ]);
  });

  it("a create-failed fault, or any fault on CreateService, means the service is created through the API", () => {
    const scenario = parseScenario({
      services: [
        service("billing:prod", { faults: [{ op: "CreateService", outcome: "create-failed" }] }),
        { name: "api", image: "api:prod", faults: [{ op: "CREATE_SERVICE", outcome: "throttle" }] },
        { name: "web", image: "web:prod", faults: [{ op: "UpdateService", outcome: "fail" }] },
      ],
    });
    expect(scenario.services.map((entry) => entry.create)).toEqual([true, true, false]);
  });

  it("refuses `create: false` with a CreateService fault: the fault could never fire", () => {
    expect(
      errorOf({
        services: [
          service("billing:prod", {
            create: false,
            faults: [{ op: "CREATE_SERVICE", outcome: "create-failed" }],
          }),
        ],
      }),
    ).toMatch(/services\.0\.create: .*CreateService/);
  });

  it("refuses unknown ops and outcomes that cannot happen to an op, with the fault's path", () => {
    expect(
      errorOf({ services: [service("web:prod", { faults: [{ op: "UpdateServices", outcome: "fail" }] })] }),
    ).toMatch(/services\.0\.faults\.0\.op: .*UpdateServices/);
    expect(
      errorOf({
        services: [service("web:prod", { faults: [{ op: "DescribeService", outcome: "fail-rollback" }] })],
      }),
    ).toMatch(/services\.0\.faults\.0: .*fail-rollback/);
    expect(
      errorOf({
        services: [service("web:prod", { faults: [{ op: "UpdateService", outcome: "create-failed" }] })],
      }),
    ).toMatch(/services\.0\.faults\.0: .*create-failed applies to CREATE_SERVICE/);
  });
});
