import { createHash, randomBytes } from "node:crypto";
import {
  type AppRunnerClient,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DeleteServiceCommand,
  DescribeCustomDomainsCommand,
  DescribeServiceCommand,
  ListOperationsCommand,
  ResumeServiceCommand,
  type Service,
  type SourceConfiguration,
  UpdateServiceCommand,
  type UpdateServiceCommandInput,
} from "@aws-sdk/client-apprunner";
import {
  type AppRunnerPort,
  type Clock,
  type ManagedService,
  type OperationSummary,
  type RecreateCheck,
  RecreateRefusedError,
  type ServiceSpecSnapshot,
  TAG_MANAGED,
} from "@gantry/core";
import { FleetDiscovery, type FleetDiscoveryOptions, listServiceTags, toManaged } from "./fleet-discovery.ts";

/**
 * App Runner behind the core's port. Discovery (`FleetDiscovery`: ListServices, the tagging API,
 * DescribeService only where a service changed, the fleet index in the ledger) is cached for
 * `discoveryTtlMs` because every push would otherwise walk the whole fleet; deploys always re-read
 * the service first. A service this instance updates is re-described alone on the next discovery,
 * so a deploy costs one call, not a walk of the fleet.
 */
export class AppRunnerAdapter implements AppRunnerPort {
  readonly #discovery: FleetDiscovery;

  constructor(
    private readonly client: AppRunnerClient,
    private readonly clock: Clock,
    discoveryTtlMs = 60_000,
    /**
     * The IAM roles this function may pass to App Runner (the access and instance roles granted
     * `iam:PassRole` in `infra/permissions.ts`). A recreate whose spec names another role is refused
     * before the delete: CreateService would be denied after it. Undefined where no IAM applies
     * (sandbox, emulators): not checked.
     */
    private readonly passableRoleArns?: readonly string[],
    /** The tagging API and the fleet index (the ledger) that keep discovery cheap at fleet scale. */
    fleet: FleetDiscoveryOptions = {},
  ) {
    this.#discovery = new FleetDiscovery(client, clock, discoveryTtlMs, fleet);
  }

  async listManagedServices(): Promise<ManagedService[]> {
    return this.#discovery.managedServices();
  }

  async describeService(serviceArn: string): Promise<ManagedService> {
    const service = await this.#describe(serviceArn);
    // A deleted service keeps no tags worth reading (and cannot be tagged: TagResource is refused).
    return toManaged(service, service.Status === "DELETED" ? {} : await this.#tags(serviceArn));
  }

  async serviceStatus(serviceArn: string): Promise<string> {
    try {
      return (await this.#describe(serviceArn)).Status ?? "";
    } catch (error) {
      // "It can describe a service in any state, including deleted services"
      // (https://docs.aws.amazon.com/apprunner/latest/api/API_Service.html), for a while: after
      // that, the ARN of a service Gantry deleted is unknown, which also means deleted.
      if ((error as Error).name === "ResourceNotFoundException") return "DELETED";
      throw error;
    }
  }

  async deployImage(serviceArn: string, imageIdentifier: string): Promise<{ operationId: string }> {
    const service = await this.#describe(serviceArn);
    return this.#update(deployImageInput(service, imageIdentifier));
  }

  async disableAutoDeploy(serviceArn: string): Promise<{ operationId: string }> {
    const service = await this.#describe(serviceArn);
    return this.#update({
      ServiceArn: serviceArn,
      SourceConfiguration: { ...sourceOf(service), AutoDeploymentsEnabled: false },
    });
  }

  async listOperations(serviceArn: string): Promise<OperationSummary[]> {
    const { OperationSummaryList = [] } = await this.client.send(
      new ListOperationsCommand({ ServiceArn: serviceArn, MaxResults: 20 }),
    );
    return OperationSummaryList.map((operation) => ({
      id: operation.Id ?? "",
      type: operation.Type ?? "",
      status: operation.Status ?? "",
      ...(operation.StartedAt ? { startedAt: operation.StartedAt } : {}),
      ...(operation.EndedAt ? { endedAt: operation.EndedAt } : {}),
      ...(operation.UpdatedAt ? { updatedAt: operation.UpdatedAt } : {}),
    }));
  }

  /** The CreateService input that reproduces the service, its environment values only as hashes. */
  async captureSpec(serviceArn: string): Promise<ServiceSpecSnapshot> {
    const service = await this.#describe(serviceArn);
    const tags = await this.#tags(serviceArn);
    return withoutEnvironmentValues({
      serviceName: service.ServiceName ?? "",
      ...(service.ServiceUrl ? { serviceUrl: service.ServiceUrl } : {}),
      createInput: createInputOf(service, tags) as unknown as Record<string, unknown>,
      capturedAt: this.clock.now().toISOString(),
    });
  }

  /**
   * Everything that would make CreateService fail or lose something once the service is deleted,
   * asked before DeleteService: the input completed with the live environment values (checked
   * against the recorded hashes), validated against the App Runner API model, the roles it passes,
   * and the custom domains and private endpoint a new service would not have.
   */
  async checkRecreate(serviceArn: string, spec: ServiceSpecSnapshot): Promise<RecreateCheck> {
    const service = await this.#describe(serviceArn);
    const { input, problems } = completeInput(withoutEnvironmentValues(spec), service);
    problems.push(...(await this.#inputProblems(input)));
    const losses: RecreateCheck["losses"] = [];
    const domains = await this.#customDomains(serviceArn);
    if (domains.length > 0) {
      // Custom domains are associated with one service ARN and point at its App Runner subdomain
      // (https://docs.aws.amazon.com/apprunner/latest/api/API_AssociateCustomDomain.html).
      losses.push({ kind: "custom-domains", detail: `custom domains ${domains.join(", ")}` });
    }
    if (service.NetworkConfiguration?.IngressConfiguration?.IsPubliclyAccessible === false) {
      // Reachable only through a VPC ingress connection, which DeleteService requires to be gone
      // (https://docs.aws.amazon.com/apprunner/latest/api/API_DeleteService.html).
      losses.push({ kind: "private-ingress", detail: "its private endpoint (VPC ingress connection)" });
    }
    return { problems, losses };
  }

  async rebuildService(serviceArn: string, spec: ServiceSpecSnapshot): Promise<{ operationId: string }> {
    const input = spec.createInput as unknown as CreateServiceCommandInput;
    return this.#update({
      ServiceArn: serviceArn,
      SourceConfiguration: input.SourceConfiguration,
      InstanceConfiguration: input.InstanceConfiguration,
      HealthCheckConfiguration: input.HealthCheckConfiguration,
      AutoScalingConfigurationArn: input.AutoScalingConfigurationArn,
      NetworkConfiguration: input.NetworkConfiguration,
      ObservabilityConfiguration: input.ObservabilityConfiguration,
    });
  }

  async deleteService(serviceArn: string): Promise<{ operationId: string }> {
    const { OperationId } = await this.client.send(new DeleteServiceCommand({ ServiceArn: serviceArn }));
    this.#discovery.forget();
    return { operationId: required(OperationId, "DeleteService", serviceArn) };
  }

  async createService(
    spec: ServiceSpecSnapshot,
    options: { environmentFrom?: string } = {},
  ): Promise<{ serviceArn: string; serviceUrl: string; operationId: string }> {
    const recorded = withoutEnvironmentValues(spec);
    const source = options.environmentFrom ? await this.#describeIfKnown(options.environmentFrom) : undefined;
    const names = Object.keys(recorded.environment?.sha256 ?? {});
    if (!source && names.length > 0) {
      throw new RecreateRefusedError([
        `the values of environment variables ${names.join(", ")} can no longer be read: App Runner no longer describes ${options.environmentFrom ?? "the service they came from"}`,
      ]);
    }
    const { input, problems } = source
      ? completeInput(recorded, source)
      : { input: recorded.createInput as unknown as CreateServiceCommandInput, problems: [] };
    problems.push(...(await this.#inputProblems(input)));
    if (problems.length > 0) throw new RecreateRefusedError(problems);
    const { Service: created, OperationId } = await this.client.send(new CreateServiceCommand(input));
    this.#discovery.forget();
    return {
      serviceArn: required(created?.ServiceArn, "CreateService", spec.serviceName),
      serviceUrl: created?.ServiceUrl ?? "",
      operationId: required(OperationId, "CreateService", spec.serviceName),
    };
  }

  async resumeService(serviceArn: string): Promise<{ operationId: string }> {
    const { OperationId } = await this.client.send(new ResumeServiceCommand({ ServiceArn: serviceArn }));
    return { operationId: required(OperationId, "ResumeService", serviceArn) };
  }

  async #describeIfKnown(serviceArn: string): Promise<Service | undefined> {
    try {
      return await this.#describe(serviceArn);
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") return undefined;
      throw error;
    }
  }

  /**
   * What the App Runner API model says is wrong with a CreateService input, and what IAM would
   * refuse: a role this function may not pass, no `gantry:managed=true` tag (CreateService is
   * granted only with it). Messages name members and constraints, never values.
   */
  async #inputProblems(input: CreateServiceCommandInput): Promise<string[]> {
    const { appRunnerModel } = await import("./app-runner-model.ts");
    const problems = appRunnerModel()
      .validateInput("CreateService", input)
      .map(
        (found) =>
          `CreateService input: ${found.path || "(input)"} ${found.message.replace(/, got .*$/s, "")}`,
      );
    const image = input.SourceConfiguration?.ImageRepository;
    if (
      image?.ImageRepositoryType === "ECR" &&
      !input.SourceConfiguration?.AuthenticationConfiguration?.AccessRoleArn
    ) {
      // "It's required for ECR image repositories" (AuthenticationConfiguration.AccessRoleArn,
      // https://docs.aws.amazon.com/apprunner/latest/api/API_AuthenticationConfiguration.html).
      problems.push(
        "CreateService input: a private ECR image needs AuthenticationConfiguration.AccessRoleArn",
      );
    }
    if (!input.Tags?.some((tag) => tag.Key === TAG_MANAGED && tag.Value === "true")) {
      problems.push(
        `CreateService input: no ${TAG_MANAGED}=true tag (Gantry may only create managed services)`,
      );
    }
    if (this.passableRoleArns) {
      const roles = [
        input.SourceConfiguration?.AuthenticationConfiguration?.AccessRoleArn,
        input.InstanceConfiguration?.InstanceRoleArn,
      ].filter((role): role is string => role !== undefined);
      for (const role of roles) {
        if (!this.passableRoleArns.includes(role)) {
          problems.push(
            `role ${role} is not one Gantry may pass to App Runner (GANTRY_APPRUNNER_ACCESS_ROLE_ARNS / GANTRY_APPRUNNER_INSTANCE_ROLE_ARNS at deploy time)`,
          );
        }
      }
    }
    return problems;
  }

  async #customDomains(serviceArn: string): Promise<string[]> {
    const domains: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeCustomDomainsCommand({ ServiceArn: serviceArn, MaxResults: 5, NextToken }),
      );
      domains.push(...(page.CustomDomains ?? []).map((domain) => domain.DomainName ?? "?"));
      NextToken = page.NextToken;
    } while (NextToken);
    return domains;
  }

  async #describe(serviceArn: string): Promise<Service> {
    const { Service: service } = await this.client.send(
      new DescribeServiceCommand({ ServiceArn: serviceArn }),
    );
    if (!service) throw new Error(`DescribeService returned no service for ${serviceArn}`);
    return service;
  }

  #tags(serviceArn: string): Promise<Record<string, string>> {
    return listServiceTags(this.client, serviceArn);
  }

  async #update(input: UpdateServiceCommandInput): Promise<{ operationId: string }> {
    const { OperationId } = await this.client.send(new UpdateServiceCommand(input));
    if (!OperationId) throw new Error(`UpdateService returned no OperationId for ${input.ServiceArn}`);
    // Its image (or settings) changed: the next discovery re-reads this service, not the fleet.
    if (input.ServiceArn) this.#discovery.changed(input.ServiceArn);
    return { operationId: OperationId };
  }
}

/**
 * The UpdateService input for a deploy by digest: the service's full SourceConfiguration as
 * DescribeService returned it (omitting ImageConfiguration might reset port/env: FACTS §3), with
 * only ImageIdentifier changed and auto-deploy off (it would bypass the gate: FACTS §0.3).
 */
export function deployImageInput(service: Service, imageIdentifier: string): UpdateServiceCommandInput {
  const source = sourceOf(service);
  if (!source.ImageRepository) {
    throw new Error(`${service.ServiceName} is a source-code service; Gantry deploys image services only`);
  }
  return {
    ServiceArn: service.ServiceArn,
    SourceConfiguration: {
      ...source,
      ImageRepository: { ...source.ImageRepository, ImageIdentifier: imageIdentifier },
      AutoDeploymentsEnabled: false,
    },
  };
}

/** The CreateService input that reproduces `service`: every setting DescribeService reports, and its tags. */
export function createInputOf(service: Service, tags: Record<string, string>): CreateServiceCommandInput {
  return {
    ServiceName: service.ServiceName,
    SourceConfiguration: sourceOf(service),
    ...(service.InstanceConfiguration ? { InstanceConfiguration: service.InstanceConfiguration } : {}),
    ...(service.HealthCheckConfiguration
      ? { HealthCheckConfiguration: service.HealthCheckConfiguration }
      : {}),
    ...(service.AutoScalingConfigurationSummary?.AutoScalingConfigurationArn
      ? { AutoScalingConfigurationArn: service.AutoScalingConfigurationSummary.AutoScalingConfigurationArn }
      : {}),
    ...(service.NetworkConfiguration ? { NetworkConfiguration: service.NetworkConfiguration } : {}),
    ...(service.ObservabilityConfiguration
      ? { ObservabilityConfiguration: service.ObservabilityConfiguration }
      : {}),
    ...(service.EncryptionConfiguration ? { EncryptionConfiguration: service.EncryptionConfiguration } : {}),
    Tags: Object.entries(tags)
      .filter(([key]) => !key.startsWith("aws:"))
      .map(([Key, Value]) => ({ Key, Value })),
  } as CreateServiceCommandInput;
}

/**
 * The spec as the ledger may hold it: RuntimeEnvironmentVariables out of the CreateService input,
 * their names kept with a salted SHA-256 of each value. (A spec recorded before values were kept
 * out is converted the same way before use.) RuntimeEnvironmentSecrets stay: they are references to
 * Secrets Manager or SSM Parameter Store, not values.
 */
export function withoutEnvironmentValues(spec: ServiceSpecSnapshot): ServiceSpecSnapshot {
  const input = spec.createInput as unknown as CreateServiceCommandInput;
  const image = input.SourceConfiguration?.ImageRepository;
  const values = image?.ImageConfiguration?.RuntimeEnvironmentVariables;
  if (!values || !image?.ImageConfiguration) return spec;
  const { RuntimeEnvironmentVariables: _values, ...imageConfiguration } = image.ImageConfiguration;
  const salt = spec.environment?.salt ?? randomBytes(16).toString("hex");
  const sha256 = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, environmentHash(salt, name, value)]),
  );
  const createInput: CreateServiceCommandInput = {
    ...input,
    SourceConfiguration: {
      ...input.SourceConfiguration,
      ImageRepository: { ...image, ImageConfiguration: imageConfiguration },
    },
  };
  return {
    ...spec,
    createInput: createInput as unknown as Record<string, unknown>,
    environment: { salt, sha256: { ...spec.environment?.sha256, ...sha256 } },
  };
}

export function environmentHash(salt: string, name: string, value: string): string {
  return createHash("sha256").update(`${salt}\0${name}\0${value}`).digest("hex");
}

/**
 * The recorded input with the environment values `service` has, when they are exactly the recorded
 * ones: the same names, each value hashing to the recorded hash. Otherwise the problems, by name.
 */
function completeInput(
  spec: ServiceSpecSnapshot,
  service: Service,
): { input: CreateServiceCommandInput; problems: string[] } {
  const input = spec.createInput as unknown as CreateServiceCommandInput;
  const live =
    service.SourceConfiguration?.ImageRepository?.ImageConfiguration?.RuntimeEnvironmentVariables ?? {};
  const recorded = spec.environment?.sha256 ?? {};
  const salt = spec.environment?.salt ?? "";
  const problems: string[] = [];
  const missing = Object.keys(recorded).filter((name) => live[name] === undefined);
  const unrecorded = Object.keys(live).filter((name) => recorded[name] === undefined);
  const changed = Object.keys(recorded).filter(
    (name) => live[name] !== undefined && environmentHash(salt, name, live[name]) !== recorded[name],
  );
  if (missing.length > 0)
    problems.push(
      `environment variables ${missing.join(", ")} are recorded but the service has no value for them`,
    );
  if (unrecorded.length > 0)
    problems.push(
      `environment variables ${unrecorded.join(", ")} are on the service but not in the recorded spec`,
    );
  if (changed.length > 0)
    problems.push(`environment variables ${changed.join(", ")} have other values than the recorded spec`);
  const image = input.SourceConfiguration?.ImageRepository;
  if (problems.length > 0 || Object.keys(recorded).length === 0 || !image) return { input, problems };
  return {
    input: {
      ...input,
      SourceConfiguration: {
        ...input.SourceConfiguration,
        ImageRepository: {
          ...image,
          ImageConfiguration: { ...image.ImageConfiguration, RuntimeEnvironmentVariables: { ...live } },
        },
      },
    },
    problems,
  };
}

function required(value: string | undefined, operation: string, subject: string): string {
  if (!value) throw new Error(`${operation} returned no identifier for ${subject}`);
  return value;
}

function sourceOf(service: Service): SourceConfiguration {
  if (!service.SourceConfiguration) throw new Error(`${service.ServiceName} has no SourceConfiguration`);
  return service.SourceConfiguration;
}
