import { AwsApiError } from "./aws-model.ts";

/** App Runner's enums, as in the model (FACTS §3). */
export type ServiceStatus =
  | "CREATE_FAILED"
  | "RUNNING"
  | "DELETED"
  | "DELETE_FAILED"
  | "PAUSED"
  | "OPERATION_IN_PROGRESS";
export type OperationType =
  | "START_DEPLOYMENT"
  | "CREATE_SERVICE"
  | "PAUSE_SERVICE"
  | "RESUME_SERVICE"
  | "DELETE_SERVICE"
  | "UPDATE_SERVICE";
export type OperationStatus =
  | "PENDING"
  | "IN_PROGRESS"
  | "FAILED"
  | "SUCCEEDED"
  | "ROLLBACK_IN_PROGRESS"
  | "ROLLBACK_FAILED"
  | "ROLLBACK_SUCCEEDED";

export const OPERATION_TYPES: readonly OperationType[] = [
  "START_DEPLOYMENT",
  "CREATE_SERVICE",
  "PAUSE_SERVICE",
  "RESUME_SERVICE",
  "DELETE_SERVICE",
  "UPDATE_SERVICE",
];

/** The API call that starts each kind of operation. */
export const API_OF_OPERATION: Record<OperationType, string> = {
  START_DEPLOYMENT: "StartDeployment",
  CREATE_SERVICE: "CreateService",
  PAUSE_SERVICE: "PauseService",
  RESUME_SERVICE: "ResumeService",
  DELETE_SERVICE: "DeleteService",
  UPDATE_SERVICE: "UpdateService",
};

export type Json = Record<string, unknown>;

export interface ImageRepository {
  ImageIdentifier: string;
  ImageRepositoryType: "ECR" | "ECR_PUBLIC";
  ImageConfiguration?: Json;
}

export interface SourceConfiguration {
  ImageRepository?: ImageRepository;
  CodeRepository?: Json;
  AutoDeploymentsEnabled?: boolean;
  AuthenticationConfiguration?: { AccessRoleArn?: string; ConnectionArn?: string };
}

export interface Tag {
  Key?: string;
  Value?: string;
}

/** The configurable part of a service: what UpdateService changes and a rollback restores. */
export interface ServiceSpec {
  SourceConfiguration: SourceConfiguration;
  InstanceConfiguration: Json;
  HealthCheckConfiguration: Json;
  AutoScalingConfigurationSummary: Json;
  NetworkConfiguration: Json;
  ObservabilityConfiguration: Json;
}

/** The members of CreateServiceRequest/UpdateServiceRequest that shape a `ServiceSpec`. */
export interface SpecInput {
  SourceConfiguration?: SourceConfiguration;
  InstanceConfiguration?: Json;
  HealthCheckConfiguration?: Json;
  AutoScalingConfigurationArn?: string;
  NetworkConfiguration?: Json;
  ObservabilityConfiguration?: Json;
}

export interface SpecContext {
  accountId: string;
  region: string;
  now: Date;
  /** The account's default auto-scaling configuration ARN (`DefaultConfiguration` revision 1). */
  defaultAutoScalingArn: string;
}

/**
 * Applies `input` over `current` (or over App Runner's defaults when creating) and returns the
 * spec App Runner would describe: every omitted setting filled with its documented default, so
 * DescribeService answers look like AWS's.
 */
export function buildSpec(
  input: SpecInput,
  current: ServiceSpec | undefined,
  context: SpecContext,
): ServiceSpec {
  const source = input.SourceConfiguration ?? current?.SourceConfiguration;
  if (!source) throw invalid("SourceConfiguration is required");
  if (input.SourceConfiguration) checkSource(input.SourceConfiguration, current?.SourceConfiguration);
  return {
    SourceConfiguration: input.SourceConfiguration
      ? sourceWithDefaults(input.SourceConfiguration, context.accountId)
      : source,
    InstanceConfiguration: input.InstanceConfiguration
      ? instanceWithDefaults(input.InstanceConfiguration)
      : (current?.InstanceConfiguration ?? instanceWithDefaults({})),
    HealthCheckConfiguration: input.HealthCheckConfiguration
      ? healthCheckWithDefaults(input.HealthCheckConfiguration)
      : (current?.HealthCheckConfiguration ?? healthCheckWithDefaults({})),
    AutoScalingConfigurationSummary:
      input.AutoScalingConfigurationArn || !current
        ? autoScalingSummary(input.AutoScalingConfigurationArn ?? context.defaultAutoScalingArn, context)
        : current.AutoScalingConfigurationSummary,
    NetworkConfiguration: input.NetworkConfiguration
      ? networkWithDefaults(input.NetworkConfiguration)
      : (current?.NetworkConfiguration ?? networkWithDefaults({})),
    ObservabilityConfiguration: input.ObservabilityConfiguration ??
      current?.ObservabilityConfiguration ?? { ObservabilityEnabled: false },
  };
}

/** Rules the model states in prose, not in shapes (FACTS §3). */
function checkSource(source: SourceConfiguration, current: SourceConfiguration | undefined): void {
  const image = source.ImageRepository;
  if (Boolean(image) === Boolean(source.CodeRepository)) {
    throw invalid("SourceConfiguration must contain exactly one of ImageRepository and CodeRepository");
  }
  if (current && Boolean(current.ImageRepository) !== Boolean(image)) {
    throw invalid("SourceConfiguration must keep the same repository kind (image or code) as the service");
  }
  if (image) checkImage(image, source);
  if (source.CodeRepository && !source.AuthenticationConfiguration?.ConnectionArn) {
    throw invalid(
      "SourceConfiguration.AuthenticationConfiguration.ConnectionArn is required for a code repository",
    );
  }
}

function checkImage(image: ImageRepository, source: SourceConfiguration): void {
  const isPublic = image.ImageIdentifier.startsWith("public.ecr.aws/");
  if (isPublic !== (image.ImageRepositoryType === "ECR_PUBLIC")) {
    throw invalid(
      `SourceConfiguration.ImageRepository.ImageRepositoryType ${image.ImageRepositoryType} does not match ImageIdentifier ${image.ImageIdentifier}`,
    );
  }
  if (image.ImageRepositoryType === "ECR" && !source.AuthenticationConfiguration?.AccessRoleArn) {
    throw invalid(
      "SourceConfiguration.AuthenticationConfiguration.AccessRoleArn is required for ECR image repositories",
    );
  }
}

/**
 * `AutoDeploymentsEnabled` defaults to true for a same-account ECR image and false for ECR Public
 * or another account's ECR (model, FACTS §0.3). UpdateService replaces the whole
 * SourceConfiguration: whether AWS keeps omitted members is UNVERIFIED (FACTS §3), so the
 * emulator takes the pessimistic reading and re-applies the defaults, which makes a client that
 * forgets to send back `AutoDeploymentsEnabled: false` or its ImageConfiguration visible.
 */
function sourceWithDefaults(source: SourceConfiguration, accountId: string): SourceConfiguration {
  const image = source.ImageRepository;
  const sameAccountEcr =
    image?.ImageRepositoryType === "ECR" && image.ImageIdentifier.startsWith(`${accountId}.`);
  return {
    ...source,
    ...(image
      ? { ImageRepository: { ...image, ImageConfiguration: { Port: "8080", ...image.ImageConfiguration } } }
      : {}),
    AutoDeploymentsEnabled: source.AutoDeploymentsEnabled ?? (image ? sameAccountEcr : true),
  };
}

/** DescribeService reports CPU in units and memory in MB even when set as `1 vCPU` / `2 GB`. */
function instanceWithDefaults(instance: Json): Json {
  return {
    ...instance,
    Cpu: toUnits(String(instance.Cpu ?? "1024"), " vCPU"),
    Memory: toUnits(String(instance.Memory ?? "2048"), " GB"),
  };
}

function toUnits(value: string, suffix: string): string {
  return value.endsWith(suffix) ? String(Number(value.slice(0, -suffix.length)) * 1024) : value;
}

/** Defaults from the model and manage-configure-healthcheck.md (FACTS §3). */
function healthCheckWithDefaults(health: Json): Json {
  return {
    Protocol: "TCP",
    Path: "/",
    Interval: 5,
    Timeout: 2,
    HealthyThreshold: 1,
    UnhealthyThreshold: 5,
    ...health,
  };
}

function networkWithDefaults(network: Json): Json {
  const egress: Json = { EgressType: "DEFAULT", ...(network.EgressConfiguration as Json | undefined) };
  if (egress.EgressType === "VPC" && !egress.VpcConnectorArn) {
    throw invalid(
      "NetworkConfiguration.EgressConfiguration.VpcConnectorArn is required when EgressType is VPC",
    );
  }
  return {
    IpAddressType: "IPV4",
    ...network,
    EgressConfiguration: egress,
    IngressConfiguration: {
      IsPubliclyAccessible: true,
      ...(network.IngressConfiguration as Json | undefined),
    },
  };
}

const AUTO_SCALING_ARN =
  /^arn:aws[\w-]*:apprunner:[^:]+:\d{12}:autoscalingconfiguration\/([^/]+)\/(\d+)\/[0-9a-f]{32}$/;

function autoScalingSummary(arn: string, context: SpecContext): Json {
  const match = AUTO_SCALING_ARN.exec(arn);
  if (!match) throw invalid(`AutoScalingConfigurationArn is not an auto scaling configuration ARN: ${arn}`);
  return {
    AutoScalingConfigurationArn: arn,
    AutoScalingConfigurationName: match[1],
    AutoScalingConfigurationRevision: Number(match[2]),
    Status: "ACTIVE",
    CreatedAt: epochSeconds(context.now),
    HasAssociatedService: true,
    IsDefault: arn === context.defaultAutoScalingArn,
  };
}

/** Tags are `{Key?, Value?}` in the model; App Runner needs the key. Later keys win. */
export function mergeTags(current: Map<string, string>, tags: Tag[], field: string): Map<string, string> {
  const merged = new Map(current);
  tags.forEach((tag, index) => {
    if (tag.Key === undefined) throw invalid(`${field}[${index}].Key is required`);
    merged.set(tag.Key, tag.Value ?? "");
  });
  return merged;
}

export function tagList(tags: Map<string, string>): Tag[] {
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

/** The JSON protocols send timestamps as epoch seconds. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

export function invalid(message: string): AwsApiError {
  return new AwsApiError("InvalidRequestException", message, 400);
}
