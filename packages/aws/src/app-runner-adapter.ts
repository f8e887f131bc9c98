import {
  type AppRunnerClient,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DeleteServiceCommand,
  DescribeServiceCommand,
  ListOperationsCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ResumeServiceCommand,
  type Service,
  type SourceConfiguration,
  UpdateServiceCommand,
  type UpdateServiceCommandInput,
} from "@aws-sdk/client-apprunner";
import {
  type AppRunnerPort,
  type Clock,
  isManaged,
  type ManagedService,
  type OperationSummary,
  type ServiceSpecSnapshot,
} from "@gantry/core";

/** A managed service as discovery last saw it, with the tags it was judged by. */
interface Discovered {
  service: ManagedService;
  tags: Record<string, string>;
}

/**
 * App Runner behind the core's port. Discovery (ListServices → ListTagsForResource →
 * DescribeService) is cached for `discoveryTtlMs` because every push would otherwise walk the
 * whole fleet; deploys always re-read the service first. A service this instance updates is
 * re-described alone on the next discovery, so a deploy costs one call, not a walk of the fleet.
 */
export class AppRunnerAdapter implements AppRunnerPort {
  #cache?: { until: number; services: Map<string, Discovered> };
  /** Services whose configuration this instance changed since the cache was filled. */
  readonly #changed = new Set<string>();

  constructor(
    private readonly client: AppRunnerClient,
    private readonly clock: Clock,
    private readonly discoveryTtlMs = 60_000,
  ) {}

  async listManagedServices(): Promise<ManagedService[]> {
    const now = this.clock.now().getTime();
    if (!this.#cache || this.#cache.until <= now) {
      this.#cache = { until: now + this.discoveryTtlMs, services: await this.#walkFleet() };
    }
    const cache = this.#cache;
    for (const serviceArn of [...this.#changed]) {
      const known = cache.services.get(serviceArn);
      if (known) known.service = toManaged(await this.#describe(serviceArn), known.tags);
      this.#changed.delete(serviceArn);
    }
    return [...cache.services.values()].map((discovered) => discovered.service);
  }

  async #walkFleet(): Promise<Map<string, Discovered>> {
    this.#changed.clear();
    const services = new Map<string, Discovered>();
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(new ListServicesCommand({ NextToken, MaxResults: 20 }));
      for (const summary of page.ServiceSummaryList ?? []) {
        if (!summary.ServiceArn || summary.Status === "DELETED") continue;
        const tags = await this.#tags(summary.ServiceArn);
        if (!isManaged(tags)) continue;
        services.set(summary.ServiceArn, {
          service: toManaged(await this.#describe(summary.ServiceArn), tags),
          tags,
        });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return services;
  }

  async describeService(serviceArn: string): Promise<ManagedService> {
    return toManaged(await this.#describe(serviceArn), await this.#tags(serviceArn));
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

  async captureSpec(serviceArn: string): Promise<ServiceSpecSnapshot> {
    const service = await this.#describe(serviceArn);
    const tags = await this.#tags(serviceArn);
    return {
      serviceName: service.ServiceName ?? "",
      ...(service.ServiceUrl ? { serviceUrl: service.ServiceUrl } : {}),
      createInput: createInputOf(service, tags) as unknown as Record<string, unknown>,
      capturedAt: this.clock.now().toISOString(),
    };
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
    this.#cache = undefined;
    return { operationId: required(OperationId, "DeleteService", serviceArn) };
  }

  async createService(
    spec: ServiceSpecSnapshot,
  ): Promise<{ serviceArn: string; serviceUrl: string; operationId: string }> {
    const { Service: created, OperationId } = await this.client.send(
      new CreateServiceCommand(spec.createInput as unknown as CreateServiceCommandInput),
    );
    this.#cache = undefined;
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

  async #describe(serviceArn: string): Promise<Service> {
    const { Service: service } = await this.client.send(
      new DescribeServiceCommand({ ServiceArn: serviceArn }),
    );
    if (!service) throw new Error(`DescribeService returned no service for ${serviceArn}`);
    return service;
  }

  async #tags(serviceArn: string): Promise<Record<string, string>> {
    const { Tags = [] } = await this.client.send(new ListTagsForResourceCommand({ ResourceArn: serviceArn }));
    return Object.fromEntries(
      Tags.filter((tag) => tag.Key).map((tag) => [tag.Key as string, tag.Value ?? ""]),
    );
  }

  async #update(input: UpdateServiceCommandInput): Promise<{ operationId: string }> {
    const { OperationId } = await this.client.send(new UpdateServiceCommand(input));
    if (!OperationId) throw new Error(`UpdateService returned no OperationId for ${input.ServiceArn}`);
    // Its image (or settings) changed: the next discovery re-reads this service, not the fleet.
    if (input.ServiceArn) this.#changed.add(input.ServiceArn);
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

function required(value: string | undefined, operation: string, subject: string): string {
  if (!value) throw new Error(`${operation} returned no identifier for ${subject}`);
  return value;
}

function sourceOf(service: Service): SourceConfiguration {
  if (!service.SourceConfiguration) throw new Error(`${service.ServiceName} has no SourceConfiguration`);
  return service.SourceConfiguration;
}

function toManaged(service: Service, tags: Record<string, string>): ManagedService {
  const port = service.SourceConfiguration?.ImageRepository?.ImageConfiguration?.Port;
  return {
    serviceArn: service.ServiceArn ?? "",
    serviceName: service.ServiceName ?? "",
    status: service.Status ?? "",
    imageIdentifier: service.SourceConfiguration?.ImageRepository?.ImageIdentifier ?? "",
    autoDeploymentsEnabled: service.SourceConfiguration?.AutoDeploymentsEnabled ?? false,
    tags,
    ...(port ? { port: Number(port) } : {}),
  };
}
