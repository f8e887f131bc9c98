import type {
  AppRunnerPort,
  Clock,
  ManagedService,
  OperationSummary,
  ServiceSpecSnapshot,
} from "../../src/index.ts";
import { TAG_MANAGED } from "../../src/managed-services.ts";

/** An AWS SDK-shaped error: the runtime's classifier reads `name` and `$fault`, as with real clients. */
export function awsError(name: string, message = name, fault: "client" | "server" = "client"): Error {
  return Object.assign(new Error(message), { name, $fault: fault, $metadata: {} });
}

export const throttled = () => awsError("ThrottlingException", "Rate exceeded");
export const internalError = () =>
  awsError("InternalServiceErrorException", "An unexpected service exception occurred", "server");

interface FakeService extends ManagedService {
  /** What a failed deployment rolls back to. */
  previousImage?: string;
  createInput: Record<string, unknown>;
}

type Method = keyof AppRunnerPort;

const RUNNING = new Set(["PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"]);

/**
 * App Runner's control-plane semantics in memory, for core unit tests: one operation at a time
 * (a second mutating call gets InvalidStateException), ListOperations newest first, a failed
 * deployment restores the previous image, a deleted service still answers DescribeService with
 * status DELETED. Every call is recorded; `failNext` injects an error into the next call of a method.
 * The HTTP emulator in `packages/local` is the model-validated version of the same behaviour.
 */
export class InMemoryAppRunner implements AppRunnerPort {
  readonly services = new Map<string, FakeService>();
  readonly operations = new Map<string, OperationSummary[]>();
  readonly calls: { method: Method; serviceArn?: string; image?: string }[] = [];
  readonly #faults = new Map<Method, Error[]>();
  /** Runs before every call: lets a test interleave concurrent handlers. */
  beforeEach?: (method: Method, serviceArn?: string) => Promise<void>;
  #sequence = 0;

  constructor(
    private readonly clock: Clock,
    readonly account = "111122223333",
    readonly region = "us-east-1",
  ) {}

  addService(input: {
    name: string;
    image: string;
    tags?: Record<string, string>;
    status?: string;
    autoDeploymentsEnabled?: boolean;
    port?: number;
  }): ManagedService {
    const serviceArn = `arn:aws:apprunner:${this.region}:${this.account}:service/${input.name}/${this.#id().replaceAll("-", "")}`;
    const service: FakeService = {
      serviceArn,
      serviceName: input.name,
      status: input.status ?? "RUNNING",
      imageIdentifier: input.image,
      autoDeploymentsEnabled: input.autoDeploymentsEnabled ?? false,
      tags: input.tags ?? { [TAG_MANAGED]: "true" },
      ...(input.port ? { port: input.port } : {}),
      createInput: {},
    };
    this.services.set(serviceArn, service);
    this.operations.set(serviceArn, []);
    return this.#view(service);
  }

  failNext(method: Method, ...errors: Error[]): void {
    this.#faults.set(method, [...(this.#faults.get(method) ?? []), ...errors]);
  }

  /** Ends the service's running operation; a failed deployment restores the previous image. */
  finish(
    serviceArn: string,
    status: "SUCCEEDED" | "FAILED" | "ROLLBACK_SUCCEEDED" | "ROLLBACK_FAILED",
  ): string {
    const operation = this.operations.get(serviceArn)?.find((candidate) => RUNNING.has(candidate.status));
    if (!operation) throw new Error(`no running operation on ${serviceArn}`);
    const service = this.#service(serviceArn);
    operation.status = status;
    operation.endedAt = this.clock.now();
    operation.updatedAt = this.clock.now();
    if (status !== "SUCCEEDED" && operation.type === "UPDATE_SERVICE" && service.previousImage) {
      service.imageIdentifier = service.previousImage;
    }
    if (operation.type === "DELETE_SERVICE" && status === "SUCCEEDED") service.status = "DELETED";
    else if (operation.type === "CREATE_SERVICE")
      service.status = status === "SUCCEEDED" ? "RUNNING" : "CREATE_FAILED";
    else if (operation.type === "RESUME_SERVICE" && status === "SUCCEEDED") service.status = "RUNNING";
    else if (service.status === "OPERATION_IN_PROGRESS") service.status = "RUNNING";
    service.previousImage = undefined;
    return operation.id;
  }

  /** An operation someone else started (a person's StartDeployment, App Runner maintenance). */
  startForeignOperation(serviceArn: string, type = "START_DEPLOYMENT"): string {
    return this.#start(this.#service(serviceArn), type);
  }

  runningOperation(serviceArn: string): OperationSummary | undefined {
    return this.operations.get(serviceArn)?.find((operation) => RUNNING.has(operation.status));
  }

  deploysOf(serviceArn: string): string[] {
    return this.calls
      .filter((call) => call.method === "deployImage" && call.serviceArn === serviceArn && call.image)
      .map((call) => call.image as string);
  }

  async listManagedServices(): Promise<ManagedService[]> {
    await this.#enter("listManagedServices");
    return [...this.services.values()]
      .filter((service) => service.status !== "DELETED" && service.tags[TAG_MANAGED] === "true")
      .map((service) => this.#view(service));
  }

  async describeService(serviceArn: string): Promise<ManagedService> {
    await this.#enter("describeService", serviceArn);
    return this.#view(this.#service(serviceArn));
  }

  async deployImage(serviceArn: string, imageIdentifier: string): Promise<{ operationId: string }> {
    await this.#enter("deployImage", serviceArn, imageIdentifier);
    const service = this.#mutable(serviceArn, "UpdateService");
    service.previousImage = service.imageIdentifier;
    service.imageIdentifier = imageIdentifier;
    service.autoDeploymentsEnabled = false;
    return { operationId: this.#start(service, "UPDATE_SERVICE") };
  }

  async disableAutoDeploy(serviceArn: string): Promise<{ operationId: string }> {
    await this.#enter("disableAutoDeploy", serviceArn);
    const service = this.#mutable(serviceArn, "UpdateService");
    service.autoDeploymentsEnabled = false;
    return { operationId: this.#start(service, "UPDATE_SERVICE") };
  }

  async listOperations(serviceArn: string): Promise<OperationSummary[]> {
    await this.#enter("listOperations", serviceArn);
    this.#service(serviceArn);
    return (this.operations.get(serviceArn) ?? []).map((operation) => ({ ...operation }));
  }

  async captureSpec(serviceArn: string): Promise<ServiceSpecSnapshot> {
    await this.#enter("captureSpec", serviceArn);
    const service = this.#service(serviceArn);
    return {
      serviceName: service.serviceName,
      createInput: {
        ServiceName: service.serviceName,
        SourceConfiguration: { ImageRepository: { ImageIdentifier: service.imageIdentifier } },
        Tags: Object.entries(service.tags).map(([Key, Value]) => ({ Key, Value })),
        ...service.createInput,
      },
      capturedAt: this.clock.now().toISOString(),
    };
  }

  async rebuildService(serviceArn: string, _spec: ServiceSpecSnapshot): Promise<{ operationId: string }> {
    await this.#enter("rebuildService", serviceArn);
    const service = this.#service(serviceArn);
    if (this.runningOperation(serviceArn)) throw this.#busy("UpdateService");
    return { operationId: this.#start(service, "UPDATE_SERVICE") };
  }

  async deleteService(serviceArn: string): Promise<{ operationId: string }> {
    await this.#enter("deleteService", serviceArn);
    const service = this.#service(serviceArn);
    if (this.runningOperation(serviceArn)) throw this.#busy("DeleteService");
    return { operationId: this.#start(service, "DELETE_SERVICE") };
  }

  async createService(
    spec: ServiceSpecSnapshot,
  ): Promise<{ serviceArn: string; serviceUrl: string; operationId: string }> {
    await this.#enter("createService");
    const tags = Object.fromEntries(
      ((spec.createInput.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((tag) => [
        tag.Key,
        tag.Value,
      ]),
    );
    const image =
      (spec.createInput.SourceConfiguration as { ImageRepository?: { ImageIdentifier?: string } } | undefined)
        ?.ImageRepository?.ImageIdentifier ?? "";
    const created = this.addService({ name: spec.serviceName, image, tags, status: "OPERATION_IN_PROGRESS" });
    const operationId = this.#start(this.#service(created.serviceArn), "CREATE_SERVICE");
    return {
      serviceArn: created.serviceArn,
      serviceUrl: `${created.serviceArn.split("/").at(-1)}.${this.region}.awsapprunner.com`,
      operationId,
    };
  }

  async resumeService(serviceArn: string): Promise<{ operationId: string }> {
    await this.#enter("resumeService", serviceArn);
    const service = this.#service(serviceArn);
    if (service.status !== "PAUSED") throw awsError("InvalidStateException", "service is not paused");
    return { operationId: this.#start(service, "RESUME_SERVICE") };
  }

  async #enter(method: Method, serviceArn?: string, image?: string): Promise<void> {
    await this.beforeEach?.(method, serviceArn);
    const fault = this.#faults.get(method)?.shift();
    this.calls.push({ method, ...(serviceArn ? { serviceArn } : {}), ...(image && !fault ? { image } : {}) });
    if (fault) throw fault;
  }

  #service(serviceArn: string): FakeService {
    const service = this.services.get(serviceArn);
    if (!service) {
      throw awsError(
        "ResourceNotFoundException",
        `A resource doesn't exist for the specified ARN: ${serviceArn}`,
      );
    }
    return service;
  }

  /** UpdateService is refused while an operation runs, and on a paused or deleted service. */
  #mutable(serviceArn: string, action: string): FakeService {
    const service = this.#service(serviceArn);
    if (this.runningOperation(serviceArn) || service.status !== "RUNNING") throw this.#busy(action);
    return service;
  }

  #busy(action: string): Error {
    return awsError(
      "InvalidStateException",
      `${action}: You can't perform this action when the resource is in its current state`,
    );
  }

  #start(service: FakeService, type: string): string {
    const id = this.#id();
    const now = this.clock.now();
    this.operations.get(service.serviceArn)?.unshift({
      id,
      type,
      status: "IN_PROGRESS",
      startedAt: now,
      updatedAt: now,
    });
    return id;
  }

  #id(): string {
    const n = (++this.#sequence).toString(16).padStart(12, "0");
    return `00000000-0000-4000-8000-${n}`;
  }

  #view(service: FakeService): ManagedService {
    const { previousImage: _previous, createInput: _input, ...view } = service;
    return { ...view, tags: { ...view.tags } };
  }
}
