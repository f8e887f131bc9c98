import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AwsModel,
  type BotocoreModel,
  callViolations,
  formatIssues,
  loadAppRunnerModel,
  loadEcrModel,
} from "../src/aws-model.ts";

const ACCOUNT = "111122223333";

function createServiceRequest(): Record<string, unknown> {
  return {
    ServiceName: "shop-web",
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:${"a".repeat(64)}`,
        ImageRepositoryType: "ECR",
        ImageConfiguration: { Port: "8080", RuntimeEnvironmentVariables: { STAGE: "prod" } },
      },
      AutoDeploymentsEnabled: false,
      AuthenticationConfiguration: {
        AccessRoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AppRunnerECRAccessRole`,
      },
    },
    InstanceConfiguration: { Cpu: "1 vCPU", Memory: "2 GB" },
    HealthCheckConfiguration: { Protocol: "HTTP", Path: "/health", Interval: 5 },
    Tags: [{ Key: "gantry:managed", Value: "true" }],
  };
}

/** Sets `value` at a dotted path of a JSON object (test helper for one-field mutations). */
function withField(path: string, value: unknown): Record<string, unknown> {
  const request = createServiceRequest();
  const keys = path.split(".");
  let node = request as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return request;
}

describe("AwsModel against the botocore App Runner model", () => {
  const model = loadAppRunnerModel();

  it("reads the protocol metadata the server dispatches on", () => {
    expect(model.targetPrefix).toBe("AppRunner");
    expect(model.jsonVersion).toBe("1.0");
    expect(loadEcrModel().targetPrefix).toBe("AmazonEC2ContainerRegistry_V20150921");
    expect(loadEcrModel().jsonVersion).toBe("1.1");
  });

  it("accepts a well-formed CreateService request", () => {
    expect(model.validateInput("CreateService", createServiceRequest())).toEqual([]);
  });

  it.each([
    [
      "a missing required member",
      "SourceConfiguration.ImageRepository.ImageRepositoryType",
      undefined,
      "is required",
    ],
    [
      "a value outside the enum",
      "SourceConfiguration.ImageRepository.ImageRepositoryType",
      "DOCKERHUB",
      "must be one of ECR, ECR_PUBLIC",
    ],
    ["a string where an integer belongs", "HealthCheckConfiguration.Interval", "5", "must be a number"],
    ["an integer out of range", "HealthCheckConfiguration.Interval", 21, "must be at most 20"],
    ["a fractional integer", "HealthCheckConfiguration.Interval", 1.5, "must be a 32-bit integer"],
    [
      "a number where a boolean belongs",
      "SourceConfiguration.AutoDeploymentsEnabled",
      0,
      "must be a boolean",
    ],
    ["a string shorter than min", "ServiceName", "abc", "must be at least 4 characters"],
    ["a string not matching the pattern", "ServiceName", "shop web!", "must match the pattern"],
    [
      "an image identifier from another registry",
      "SourceConfiguration.ImageRepository.ImageIdentifier",
      "docker.io/nginx:latest",
      "must match the pattern",
    ],
    ["a member the shape does not have", "SourceConfiguration.ImageRepository.Image", "x", "is not a member"],
    ["a list where a structure belongs", "InstanceConfiguration", [], "must be a structure, got a list"],
    ["null where a structure belongs", "HealthCheckConfiguration", null, "must be a structure, got null"],
  ])("rejects %s with the path of the field", (_, path, value, message) => {
    const issues = model.validateInput("CreateService", withField(path, value));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((found) => found.path === path)).toBe(true);
    expect(issues[0]?.message).toContain(message);
    expect(formatIssues(issues)).toContain(path);
  });

  it("names list items and map entries in paths", () => {
    const request = createServiceRequest();
    request.Tags = [
      { Key: "ok", Value: "1" },
      { Key: "aws:reserved", Value: "2" },
    ];
    const image = (
      request.SourceConfiguration as { ImageRepository: { ImageConfiguration: Record<string, unknown> } }
    ).ImageRepository;
    image.ImageConfiguration.RuntimeEnvironmentVariables = { "": 1 };
    const paths = model.validateInput("CreateService", request).map((found) => found.path);
    expect(paths).toEqual([
      'SourceConfiguration.ImageRepository.ImageConfiguration.RuntimeEnvironmentVariables[""] (key)',
      'SourceConfiguration.ImageRepository.ImageConfiguration.RuntimeEnvironmentVariables[""]',
      "Tags[1].Key",
    ]);
  });

  it("checks outputs: timestamps are epoch seconds in the JSON protocol", () => {
    const summary = {
      Id: "3f1c7a52-8c1e-4e7b-9d1a-0b8f6f1e2a3c",
      Type: "UPDATE_SERVICE",
      Status: "SUCCEEDED",
    };
    expect(
      model.validateOutput("ListOperations", {
        OperationSummaryList: [{ ...summary, StartedAt: 1767225600 }],
      }),
    ).toEqual([]);
    const issues = model.validateOutput("ListOperations", {
      OperationSummaryList: [{ ...summary, StartedAt: "2026-01-01T00:00:00Z" }],
    });
    expect(formatIssues(issues)).toBe(
      'OperationSummaryList[0].StartedAt must be a timestamp in epoch seconds, got string "2026-01-01T00:00:00Z"',
    );
  });

  it("knows each operation's modeled errors and their HTTP status", () => {
    expect(model.modeledErrors("StartDeployment")).not.toContain("InvalidStateException");
    expect(model.isModeledError("UpdateService", "InvalidStateException")).toBe(true);
    expect(model.errorStatus("InternalServiceErrorException")).toBe(500);
    expect(model.errorStatus("InvalidStateException")).toBe(400);
    expect(model.error("InvalidRequestException", "bad").statusCode).toBe(400);
    expect(() => model.error("ThrottlingException", "slow down")).toThrow(/not a modeled error/);
  });

  it("patches ServiceId, whose published length and pattern contradict each other", () => {
    const raw = new AwsModel(model.json);
    const realId = "8fe1e10304f84fd2b0df550fe98a71fa"; // AWS's sample event (FACTS §1)
    expect(raw.validate("ServiceId", realId).map((found) => found.message)).toEqual([
      expect.stringContaining("must match the pattern"),
    ]);
    expect(raw.validate("ServiceId", "8fe1e103-04f8-4fd2-b0df-550fe98a71fa")[0]?.message).toContain(
      "at most 32",
    );
    expect(model.validate("ServiceId", realId)).toEqual([]);
  });

  it("accepts every service name the pattern allows and refuses names with other characters", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$/), (name) => {
        expect(model.validate("ServiceName", name)).toEqual([]);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{2,10}[ !./][a-z]{2,10}$/), (name) => {
        expect(model.validate("ServiceName", name)).not.toEqual([]);
      }),
    );
  });
});

describe("callViolations", () => {
  const model = loadAppRunnerModel();
  const arn = `arn:aws:apprunner:us-east-1:${ACCOUNT}:service/shop-web/${"0".repeat(32)}`;

  it("passes recorded calls that agree with the model, including unmodeled throttling", () => {
    const calls = [
      {
        op: "StartDeployment",
        input: { ServiceArn: arn },
        output: { OperationId: "3f1c7a52-8c1e-4e7b-9d1a-0b8f6f1e2a3c" },
      },
      {
        op: "StartDeployment",
        input: { ServiceArn: arn },
        error: { code: "ThrottlingException", message: "Rate exceeded" },
      },
      {
        op: "CreateService",
        input: { ServiceName: "x" },
        error: { code: "InvalidRequestException", message: "bad" },
      },
    ];
    expect(callViolations(model, calls)).toEqual([]);
  });

  it("reports invalid inputs that were answered, invalid outputs, unmodeled errors and bad error bodies", () => {
    const calls = [
      { op: "StartDeployment", input: {}, output: { OperationId: "not-a-uuid" } },
      {
        op: "StartDeployment",
        input: { ServiceArn: arn },
        error: { code: "InvalidStateException", message: "busy" },
      },
      {
        op: "DescribeService",
        input: { ServiceArn: arn },
        error: { code: "ResourceNotFoundException", message: "x".repeat(601) },
      },
      { op: "ListWidgets", input: {} },
    ];
    expect(callViolations(model, calls)).toEqual([
      "call 0 StartDeployment: invalid input answered: ServiceArn is required",
      expect.stringMatching(/^call 0 StartDeployment: output OperationId must be at least 36 characters/),
      "call 1 StartDeployment: error InvalidStateException is not modeled for StartDeployment",
      "call 2 DescribeService: error body Message must be at most 600 characters, got 601",
      "call 3 ListWidgets: not an operation of AppRunner",
    ]);
  });
});

describe("AwsModel against the botocore ECR model", () => {
  const model = loadEcrModel();

  it("validates maps keyed by an enum and longs", () => {
    const findings = { findingSeverityCounts: { HIGH: 2, CRITICAL: 1 } };
    expect(model.validate("ImageScanFindings", findings)).toEqual([]);
    expect(
      formatIssues(model.validate("ImageScanFindings", { findingSeverityCounts: { SEVERE: 1 } })),
    ).toContain('findingSeverityCounts["SEVERE"] (key) must be one of');
    expect(model.validate("ImageDetail", { imageSizeInBytes: 2 ** 40 })).toEqual([]);
    expect(model.validate("ImageDetail", { imageSizeInBytes: 1.5 })[0]?.message).toContain(
      "must be an integer",
    );
  });

  it("validates list sizes", () => {
    const issues = model.validateInput("DescribeImages", { repositoryName: "shop/web", imageIds: [] });
    expect(formatIssues(issues)).toBe("imageIds must be at least 1 items, got 0");
  });

  it("has no pattern that JavaScript cannot compile, in either model", () => {
    for (const loaded of [model, loadAppRunnerModel()]) {
      for (const [name, shape] of Object.entries(loaded.json.shapes)) {
        if (shape.type === "string" && shape.pattern) expect(() => loaded.validate(name, "x")).not.toThrow();
      }
    }
  });

  it("refuses a model without the shape asked for", () => {
    const tiny: BotocoreModel = {
      metadata: { protocol: "json", serviceId: "Tiny" },
      operations: {},
      shapes: {},
    };
    expect(() => new AwsModel(tiny).validate("Missing", {})).toThrow(/no shape Missing/);
  });
});
