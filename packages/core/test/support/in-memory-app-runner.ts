import { createHash } from "node:crypto";
import {
  type AppRunnerPort,
  type Clock,
  type ManagedService,
  type OperationSummary,
  type RecreateCheck,
  RecreateRefusedError,
  type ServiceSpecSnapshot,
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
  /** RuntimeEnvironmentVariables: what DescribeService returns, never what captureSpec records. */
  environment: Record<string, string>;
  customDomains: string[];
  /** NetworkConfiguration.IngressConfiguration.IsPubliclyAccessible = false. */
  privateIngress: boolean;
  /** What checkRecreate finds wrong with the CreateService input (the adapter's model validation). */
  createProblems: string[];
}

/** The adapter hashes with a salted SHA-256; so does the fake, so a changed value is noticed. */
function hashOf(salt: string, name: string, value: string): string {
  return createHash("sha256").update(`${salt}\0${name}\0${value}`).digest("hex");
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
    environment?: Record<string, string>;
    customDomains?: string[];
    privateIngress?: boolean;
    createProblems?: string[];
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
      environment: input.environment ?? {},
      customDomains: input.customDomains ?? [],
      privateIngress: input.privateIngress ?? false,
      createProblems: input.createProblems ?? [],
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

  /** App Runner no longer describes the service (a deleted service is describable only for a while). */
  forget(serviceArn: string): void {
    this.services.delete(serviceArn);
  }

  /** The service as DescribeService shows it, with its settings (tests only). */
  inspect(serviceArn: string): FakeService {
    return structuredClone(this.#service(serviceArn));
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
    const salt = `salt-${this.#id()}`;
    const names = Object.keys(service.environment);
    return {
      serviceName: service.serviceName,
      createInput: {
        ServiceName: service.serviceName,
        SourceConfiguration: { ImageRepository: { ImageIdentifier: service.imageIdentifier } },
        Tags: Object.entries(service.tags).map(([Key, Value]) => ({ Key, Value })),
        ...service.createInput,
      },
      ...(names.length > 0
        ? {
            environment: {
              salt,
              sha256: Object.fromEntries(
                names.map((name) => [name, hashOf(salt, name, service.environment[name] as string)]),
              ),
            },
          }
        : {}),
      capturedAt: this.clock.now().toISOString(),
    };
  }

  async checkRecreate(serviceArn: string, spec: ServiceSpecSnapshot): Promise<RecreateCheck> {
    await this.#enter("checkRecreate", serviceArn);
    const service = this.#service(serviceArn);
    const losses: RecreateCheck["losses"] = [];
    if (service.customDomains.length > 0)
      losses.push({ kind: "custom-domains", detail: `custom domains ${service.customDomains.join(", ")}` });
    if (service.privateIngress) losses.push({ kind: "private-ingress", detail: "a private endpoint" });
    return {
      problems: [...service.createProblems, ...this.#environmentProblems(service, spec)],
      losses,
    };
  }

  async serviceStatus(serviceArn: string): Promise<string> {
    await this.#enter("serviceStatus", serviceArn);
    return this.services.get(serviceArn)?.status ?? "DELETED";
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
    options: { environmentFrom?: string } = {},
  ): Promise<{ serviceArn: string; serviceUrl: string; operationId: string }> {
    await this.#enter("createService");
    const names = Object.keys(spec.environment?.sha256 ?? {});
    const source = options.environmentFrom ? this.services.get(options.environmentFrom) : undefined;
    if (names.length > 0 && !source) {
      throw new RecreateRefusedError([`values of ${names.join(", ")} can no longer be read`]);
    }
    const problems = source ? this.#environmentProblems(source, spec) : [];
    if (problems.length > 0) throw new RecreateRefusedError(problems);
    const taken = [...this.services.values()].some(
      (service) => service.serviceName === spec.serviceName && service.status !== "DELETED",
    );
    if (taken) {
      throw awsError(
        "InvalidRequestException",
        `Service with the provided name already exists: ${spec.serviceName}`,
      );
    }
    const tags = Object.fromEntries(
      ((spec.createInput.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((tag) => [
        tag.Key,
        tag.Value,
      ]),
    );
    const image =
      (spec.createInput.SourceConfiguration as { ImageRepository?: { ImageIdentifier?: string } } | undefined)
        ?.ImageRepository?.ImageIdentifier ?? "";
    const created = this.addService({
      name: spec.serviceName,
      image,
      tags,
      status: "OPERATION_IN_PROGRESS",
      environment: source ? { ...source.environment } : {},
    });
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

  #environmentProblems(service: FakeService, spec: ServiceSpecSnapshot): string[] {
    const recorded = spec.environment?.sha256 ?? {};
    const salt = spec.environment?.salt ?? "";
    const names = new Set([...Object.keys(recorded), ...Object.keys(service.environment)]);
    return [...names]
      .filter((name) => {
        const value = service.environment[name];
        return value === undefined || recorded[name] !== hashOf(salt, name, value);
      })
      .map((name) => `environment variable ${name} differs from the recorded spec`);
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
    return {
      serviceArn: service.serviceArn,
      serviceName: service.serviceName,
      status: service.status,
      imageIdentifier: service.imageIdentifier,
      autoDeploymentsEnabled: service.autoDeploymentsEnabled,
      tags: { ...service.tags },
      ...(service.port ? { port: service.port } : {}),
    };
  }
}
