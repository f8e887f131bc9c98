import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventBridgeEvent } from "@gantry/events";
import { operationStatusEvent, serviceStatusEvent } from "./apprunner-events.ts";
import { type ActiveFault, FaultQueue, type FaultSpec } from "./apprunner-faults.ts";
import {
  buildSpec,
  epochSeconds,
  invalid,
  type Json,
  mergeTags,
  type OperationStatus,
  type OperationType,
  type ServiceSpec,
  type ServiceStatus,
  type SourceConfiguration,
  type SpecInput,
  type Tag,
  tagList,
} from "./apprunner-service.ts";
import { type AwsJsonHandler, type EmulatorCall, recordCall } from "./aws-emulator-server.ts";
import { AwsApiError, type AwsModel, formatIssues, loadAppRunnerModel } from "./aws-model.ts";
import type { TimerClock, TimerHandle } from "./virtual-clock.ts";

/** How long each asynchronous operation takes on the emulator's clock, in milliseconds. */
export interface AppRunnerDurations {
  /** Time an operation stays PENDING before it turns IN_PROGRESS. */
  pending: number;
  createService: number;
  updateService: number;
  startDeployment: number;
  pauseService: number;
  resumeService: number;
  deleteService: number;
  /** `fail-rollback`: time from the failure (ROLLBACK_IN_PROGRESS) to the rolled-back end. */
  rollback: number;
}

/** Minutes, as App Runner takes (FACTS §3: "for a few minutes"); exact figures are not published. */
export const DEFAULT_APP_RUNNER_DURATIONS: AppRunnerDurations = {
  pending: 5_000,
  createService: 5 * 60_000,
  updateService: 4 * 60_000,
  startDeployment: 4 * 60_000,
  pauseService: 60_000,
  resumeService: 2 * 60_000,
  deleteService: 60_000,
  rollback: 2 * 60_000,
};

export interface AppRunnerEmulatorOptions {
  clock: TimerClock;
  accountId: string;
  region: string;
  /** Receives every EventBridge event App Runner would put on the default bus. */
  emit: (event: EventBridgeEvent) => void | Promise<void>;
  durations?: Partial<AppRunnerDurations>;
  /** UUID generator for service, operation and event ids (default `crypto.randomUUID`). */
  newId?: () => string;
  /** The App Runner model to validate against (default: the copy in test/fixtures/aws-models). */
  model?: AwsModel;
}

export interface CreateServiceInput extends SpecInput {
  ServiceName: string;
  SourceConfiguration: SourceConfiguration;
  Tags?: Tag[];
  EncryptionConfiguration?: Json;
}

interface UpdateServiceInput extends SpecInput {
  ServiceArn: string;
}

interface PageInput {
  NextToken?: string;
  MaxResults?: number;
}

interface OperationRecord {
  seq: number;
  Id: string;
  Type: OperationType;
  Status: OperationStatus;
  TargetArn: string;
  StartedAt: Date;
  EndedAt?: Date;
  UpdatedAt: Date;
}

interface ActiveOperation {
  operation: OperationRecord;
  /** What a failed update or deployment returns to (the service's spec before the call). */
  previousSpec: ServiceSpec;
  /** The status before the call; undefined for CREATE_SERVICE. */
  previousStatus: ServiceStatus | undefined;
  fault: ActiveFault | undefined;
}

interface ServiceRecord {
  seq: number;
  name: string;
  id: string;
  arn: string;
  url: string;
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date;
  status: ServiceStatus;
  spec: ServiceSpec;
  encryption: Json | undefined;
  tags: Map<string, string>;
  operations: OperationRecord[];
  active: ActiveOperation | undefined;
}

/** A JSON copy of the emulator's state, for scenario assertions and debugging. */
export interface AppRunnerSnapshot {
  services: {
    service: Json;
    tags: Record<string, string>;
    /** Newest first, as ListOperations. */
    operations: Json[];
    activeOperation?: { id: string; type: OperationType; status: OperationStatus; fault?: string };
  }[];
  faults: ActiveFault[];
}

/** Which statuses each operation may start from (FACTS §0.2, §3; manage-pause.md). */
const STARTABLE_FROM: Record<OperationType, readonly ServiceStatus[]> = {
  CREATE_SERVICE: [],
  UPDATE_SERVICE: ["RUNNING", "CREATE_FAILED"],
  START_DEPLOYMENT: ["RUNNING"],
  PAUSE_SERVICE: ["RUNNING"],
  RESUME_SERVICE: ["PAUSED"],
  DELETE_SERVICE: ["RUNNING", "PAUSED", "CREATE_FAILED", "DELETE_FAILED"],
};

const STATUS_AFTER_SUCCESS: Record<OperationType, ServiceStatus> = {
  CREATE_SERVICE: "RUNNING",
  UPDATE_SERVICE: "RUNNING",
  START_DEPLOYMENT: "RUNNING",
  PAUSE_SERVICE: "PAUSED",
  RESUME_SERVICE: "RUNNING",
  DELETE_SERVICE: "DELETED",
};

/**
 * The local App Runner: the API subset Gantry uses, answering with the model's shapes, running
 * every mutating call as an asynchronous operation on a `TimerClock` and emitting the EventBridge
 * events App Runner emits. Faults can be injected per service and operation.
 *
 * Failure semantics (`fail`, `fail-rollback`): a failed update or deployment leaves the service in
 * the status it had before the call (RUNNING, or CREATE_FAILED for a failed rebuild) on its
 * PREVIOUS configuration, because App Runner keeps the old version serving (FACTS §0.4). A failed
 * create ends CREATE_FAILED, a failed delete DELETE_FAILED, a failed pause RUNNING, a failed resume
 * PAUSED.
 */
export class AppRunnerEmulator implements AwsJsonHandler {
  readonly targetPrefix: string;
  readonly jsonVersion: string;
  /** Every API call with its input and output or error, in arrival order. */
  readonly calls: EmulatorCall[] = [];
  readonly model: AwsModel;

  readonly #clock: TimerClock;
  readonly #accountId: string;
  readonly #region: string;
  readonly #emit: AppRunnerEmulatorOptions["emit"];
  readonly #durations: AppRunnerDurations;
  readonly #newId: () => string;
  readonly #defaultAutoScalingArn: string;
  readonly #faults: FaultQueue;
  readonly #services = new Map<string, ServiceRecord>();
  readonly #timers = new Set<TimerHandle>();
  readonly #api: Record<string, (input: Json) => Json>;
  #seq = 0;

  constructor(options: AppRunnerEmulatorOptions) {
    this.model = options.model ?? loadAppRunnerModel();
    this.targetPrefix = this.model.targetPrefix;
    this.jsonVersion = this.model.jsonVersion;
    this.#clock = options.clock;
    this.#accountId = options.accountId;
    this.#region = options.region;
    this.#emit = options.emit;
    this.#durations = { ...DEFAULT_APP_RUNNER_DURATIONS, ...options.durations };
    this.#newId = options.newId ?? randomUUID;
    this.#defaultAutoScalingArn = `${this.#arnPrefix()}:autoscalingconfiguration/DefaultConfiguration/1/${this.#hexId()}`;
    this.#faults = new FaultQueue((name) => this.model.hasOperation(name));
    this.#api = {
      CreateService: (input) => this.#createService(input as unknown as CreateServiceInput),
      UpdateService: (input) => this.#updateService(input as unknown as UpdateServiceInput),
      StartDeployment: (input) => this.#startDeployment(String(input.ServiceArn)),
      DescribeService: (input) => ({ Service: toWireService(this.#find(String(input.ServiceArn))) }),
      ListServices: (input) => this.#listServices(input as PageInput),
      ListOperations: (input) => this.#listOperations(String(input.ServiceArn), input as PageInput),
      PauseService: (input) => this.#simpleOperation(String(input.ServiceArn), "PAUSE_SERVICE"),
      ResumeService: (input) => this.#simpleOperation(String(input.ServiceArn), "RESUME_SERVICE"),
      DeleteService: (input) => this.#simpleOperation(String(input.ServiceArn), "DELETE_SERVICE"),
      DescribeCustomDomains: (input) => this.#describeCustomDomains(String(input.ServiceArn)),
      ListTagsForResource: (input) => ({ Tags: tagList(this.#find(String(input.ResourceArn)).tags) }),
      TagResource: (input) => this.#tagResource(String(input.ResourceArn), input.Tags as Tag[]),
      UntagResource: (input) => this.#untagResource(String(input.ResourceArn), input.TagKeys as string[]),
    };
  }

  /** The API operations this emulator answers. */
  get operations(): string[] {
    return Object.keys(this.#api);
  }

  /** One API call, as the HTTP server forwards it: `operation` is the part after `AppRunner.`. */
  async handle(operation: string, input: unknown): Promise<unknown> {
    return recordCall(this.calls, { op: operation, input, at: this.#clock.now() }, async () => {
      const answer = Object.hasOwn(this.#api, operation) ? this.#api[operation] : undefined;
      if (!answer) {
        throw new AwsApiError(
          "UnknownOperationException",
          `Operation ${operation} is not supported by the emulator`,
        );
      }
      await this.#applyApiFault(operation, input);
      const issues = this.model.validateInput(operation, input);
      if (issues.length > 0) throw invalid(`Invalid input: ${formatIssues(issues)}`);
      return answer(input as Json);
    });
  }

  /** Queues a fault; see `FaultSpec`. Throws on combinations that cannot happen. */
  injectFault(spec: FaultSpec): void {
    this.#faults.add(spec);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /**
   * Creates a service that is already RUNNING, with a succeeded CREATE_SERVICE operation in its
   * history and no events: the state a scenario starts from. `input` is a CreateServiceRequest
   * (the SDK's `CreateServiceCommandInput` fits); it is checked against the model.
   */
  seedService(input: object): Json {
    const issues = this.model.validateInput("CreateService", input);
    if (issues.length > 0) throw invalid(`seedService: ${formatIssues(issues)}`);
    const service = this.#newService(input as CreateServiceInput, "RUNNING");
    const now = this.#clock.now();
    service.operations.push({
      seq: ++this.#seq,
      Id: this.#newId(),
      Type: "CREATE_SERVICE",
      Status: "SUCCEEDED",
      TargetArn: service.arn,
      StartedAt: now,
      EndedAt: now,
      UpdatedAt: now,
    });
    return toWireService(service);
  }

  /**
   * Every service with its tags, in creation order, for the local Resource Groups Tagging API
   * (`TaggingEmulator`). Deleted services are included: AWS's tagging API may go on listing them.
   */
  taggedServices(): { arn: string; tags: Record<string, string>; deleted: boolean }[] {
    return [...this.#services.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((service) => ({
        arn: service.arn,
        tags: Object.fromEntries(service.tags),
        deleted: service.status === "DELETED",
      }));
  }

  snapshot(): AppRunnerSnapshot {
    return {
      services: [...this.#services.values()].map((service) => ({
        service: toWireService(service),
        tags: Object.fromEntries(service.tags),
        operations: newestFirst(service.operations).map(toWireOperation),
        ...(service.active ? { activeOperation: describeActive(service.active) } : {}),
      })),
      faults: this.#faults.pending(),
    };
  }

  /** Cancels every pending operation timer (end of a test or of the sandbox). */
  dispose(): void {
    for (const handle of this.#timers) this.#clock.cancel(handle);
    this.#timers.clear();
  }

  #createService(input: CreateServiceInput): Json {
    const service = this.#newService(input, "OPERATION_IN_PROGRESS");
    const operation = this.#startOperation(service, "CREATE_SERVICE", service.spec);
    return { Service: toWireService(service), OperationId: operation.Id };
  }

  #updateService(input: UpdateServiceInput): Json {
    const service = this.#find(input.ServiceArn);
    this.#assertStartable(service, "UPDATE_SERVICE");
    const next = buildSpec(input, service.spec, this.#specContext());
    const operation = this.#startOperation(service, "UPDATE_SERVICE", next);
    // The returned Service reflects the changes being applied (UpdateServiceResponse doc).
    return { Service: toWireService(service), OperationId: operation.Id };
  }

  /** Redeploys the current source: a same-tag image is pulled again (FACTS §3 StartDeployment). */
  #startDeployment(arn: string): Json {
    const service = this.#find(arn);
    this.#assertStartable(service, "START_DEPLOYMENT");
    return { OperationId: this.#startOperation(service, "START_DEPLOYMENT", service.spec).Id };
  }

  #simpleOperation(arn: string, type: OperationType): Json {
    const service = this.#find(arn);
    this.#assertStartable(service, type);
    const operation = this.#startOperation(service, type, service.spec);
    return { Service: toWireService(service), OperationId: operation.Id };
  }

  /** "Returns a list of running App Runner services": deleted ones are left out (model doc). */
  #listServices(input: PageInput): Json {
    const live = [...this.#services.values()].filter((service) => service.status !== "DELETED");
    const { page, NextToken } = paginate(live, "services", "asc", input);
    return { ServiceSummaryList: page.map(toServiceSummary), ...(NextToken ? { NextToken } : {}) };
  }

  /** Reverse chronological: the first entry is the last started operation (FACTS §3). */
  #listOperations(arn: string, input: PageInput): Json {
    const service = this.#find(arn);
    const { page, NextToken } = paginate(newestFirst(service.operations), `operations`, "desc", input);
    return { OperationSummaryList: page.map(toWireOperation), ...(NextToken ? { NextToken } : {}) };
  }

  /**
   * Gantry asks before it recreates a service (a new service would not keep them). The emulator
   * associates no custom domains: the answer is the service's App Runner subdomain and none.
   */
  #describeCustomDomains(arn: string): Json {
    const service = this.#find(arn);
    return { DNSTarget: service.url, ServiceArn: service.arn, CustomDomains: [], VpcDNSTargets: [] };
  }

  #tagResource(arn: string, tags: Tag[]): Json {
    const service = this.#findTaggable(arn);
    service.tags = mergeTags(service.tags, tags, "Tags");
    return {};
  }

  #untagResource(arn: string, keys: string[]): Json {
    const service = this.#findTaggable(arn);
    for (const key of keys) service.tags.delete(key);
    return {};
  }

  #findTaggable(arn: string): ServiceRecord {
    const service = this.#find(arn);
    if (service.status === "DELETED") {
      throw this.model.error(
        "InvalidStateException",
        `Service ${service.name} is deleted; its tags can't change`,
      );
    }
    return service;
  }

  #newService(input: CreateServiceInput, status: ServiceStatus): ServiceRecord {
    this.#assertNameFree(input.ServiceName);
    const spec = buildSpec(input, undefined, this.#specContext());
    const tags = mergeTags(new Map(), input.Tags ?? [], "Tags");
    const id = this.#hexId();
    const now = this.#clock.now();
    const service: ServiceRecord = {
      seq: ++this.#seq,
      name: input.ServiceName,
      id,
      arn: `${this.#arnPrefix()}:service/${input.ServiceName}/${id}`,
      url: `${id.slice(0, 10)}.${this.#region}.awsapprunner.com`,
      createdAt: now,
      updatedAt: now,
      status,
      spec,
      encryption: input.EncryptionConfiguration,
      tags,
      operations: [],
      active: undefined,
    };
    this.#services.set(service.arn, service);
    return service;
  }

  /** Names are unique among the account's services that are not deleted (FACTS §3). */
  #assertNameFree(name: string): void {
    const taken = [...this.#services.values()].some(
      (service) => service.name === name && service.status !== "DELETED",
    );
    if (taken) throw invalid(`Service with the provided name already exists: ${name}`);
  }

  /**
   * One operation at a time. StartDeployment models no InvalidStateException, so it refuses with
   * InvalidRequestException whose message says why (FACTS §3, "Operation in progress").
   */
  #assertStartable(service: ServiceRecord, type: OperationType): void {
    if (STARTABLE_FROM[type].includes(service.status)) return;
    const reason = service.active
      ? `an operation (${service.active.operation.Type}) is in progress`
      : `its status is ${service.status}`;
    const message = `You can't perform this action when the resource is in its current state: service ${service.name} can't start ${type} because ${reason}.`;
    throw type === "START_DEPLOYMENT" ? invalid(message) : this.model.error("InvalidStateException", message);
  }

  #startOperation(service: ServiceRecord, type: OperationType, next: ServiceSpec): OperationRecord {
    const now = this.#clock.now();
    const operation: OperationRecord = {
      seq: ++this.#seq,
      Id: this.#newId(),
      Type: type,
      Status: "PENDING",
      TargetArn: service.arn,
      StartedAt: now,
      UpdatedAt: now,
    };
    const previousStatus = type === "CREATE_SERVICE" ? undefined : service.status;
    const fault = this.#faults.takeOperationFault(type, [service.name, service.arn]);
    const active: ActiveOperation = { operation, previousSpec: service.spec, previousStatus, fault };
    service.operations.push(operation);
    service.spec = next;
    service.status = "OPERATION_IN_PROGRESS";
    service.updatedAt = now;
    service.active = active;
    if (previousStatus) {
      this.#later(0, `${type} started`, () => this.#announceStatus(service, active, previousStatus));
    }
    this.#later(this.#durations.pending, `${type} in progress`, () =>
      setStatus(operation, "IN_PROGRESS", this.#clock),
    );
    this.#later(this.#durationOf(type), `${type} ends`, () => this.#finish(service, active));
    return operation;
  }

  async #finish(service: ServiceRecord, active: ActiveOperation): Promise<void> {
    const outcome = active.fault?.outcome;
    if (outcome === "fail-rollback") {
      setStatus(active.operation, "ROLLBACK_IN_PROGRESS", this.#clock);
      const final = active.fault?.rollbackStatus ?? "ROLLBACK_SUCCEEDED";
      this.#later(this.#durations.rollback, "rollback ends", () => this.#settle(service, active, final));
      return;
    }
    const failed = outcome === "fail" || outcome === "create-failed";
    await this.#settle(service, active, failed ? "FAILED" : "SUCCEEDED");
  }

  /** Ends the operation: final statuses, the rollback of the spec on failure, then the events. */
  async #settle(service: ServiceRecord, active: ActiveOperation, final: OperationStatus): Promise<void> {
    const { operation, previousStatus } = active;
    const succeeded = final === "SUCCEEDED";
    const now = this.#clock.now();
    setStatus(operation, final, this.#clock);
    operation.EndedAt = now;
    const status = succeeded
      ? STATUS_AFTER_SUCCESS[operation.Type]
      : statusAfterFailure(operation.Type, previousStatus);
    if (!succeeded && operation.Type !== "CREATE_SERVICE") service.spec = active.previousSpec;
    service.status = status;
    service.updatedAt = now;
    service.active = undefined;
    if (status === "DELETED") service.deletedAt = now;
    if (active.fault?.outcome === "no-event") return;
    const context = this.#eventContext();
    await this.#emit(
      operationStatusEvent(context, service, operation.Type, succeeded ? "succeeded" : "failed"),
    );
    await this.#emit(serviceStatusEvent(this.#eventContext(), service, "OPERATION_IN_PROGRESS", status));
  }

  async #announceStatus(
    service: ServiceRecord,
    active: ActiveOperation,
    previous: ServiceStatus,
  ): Promise<void> {
    if (active.fault?.outcome === "no-event") return;
    await this.#emit(serviceStatusEvent(this.#eventContext(), service, previous, "OPERATION_IN_PROGRESS"));
  }

  async #applyApiFault(operation: string, input: unknown): Promise<void> {
    const fault = this.#faults.takeApiFault(operation, this.#identities(input));
    if (fault?.outcome === "latency") await sleep(fault.delayMs);
    if (fault?.outcome === "throttle") {
      // Not modeled for App Runner, but the SDK classifies the code as throttling (FACTS §3).
      throw new AwsApiError("ThrottlingException", "Rate exceeded", 400);
    }
    if (fault?.outcome === "error-5xx") {
      throw this.model.error("InternalServiceErrorException", "An unexpected service exception occurred");
    }
    if (fault?.outcome === "refuse") {
      // What AWS answers when a CREATE_FAILED service cannot be rebuilt in place (FACTS §0.2).
      throw this.model.error(
        "InvalidRequestException",
        "ConfigurationSource cannot be changed from REPOSITORY to API for CREATE_FAILED services",
      );
    }
  }

  /** The names and ARNs a call refers to, for matching faults scoped to a service. */
  #identities(input: unknown): string[] {
    if (typeof input !== "object" || input === null) return [];
    const fields = input as Record<string, unknown>;
    const given = [fields.ServiceArn, fields.ResourceArn, fields.ServiceName].filter(
      (value): value is string => typeof value === "string",
    );
    const known = given.flatMap((value) => {
      const service = this.#services.get(value);
      return service ? [service.name] : [];
    });
    return [...given, ...known];
  }

  #find(arn: string): ServiceRecord {
    const service = this.#services.get(arn);
    if (!service)
      throw this.model.error(
        "ResourceNotFoundException",
        `A resource doesn't exist for the specified ARN: ${arn}`,
      );
    return service;
  }

  #later(delayMs: number, label: string, run: () => void | Promise<void>): void {
    const handle = this.#clock.schedule(
      delayMs,
      async () => {
        this.#timers.delete(handle);
        await run();
      },
      `apprunner: ${label}`,
    );
    this.#timers.add(handle);
  }

  #durationOf(type: OperationType): number {
    const durations: Record<OperationType, number> = {
      CREATE_SERVICE: this.#durations.createService,
      UPDATE_SERVICE: this.#durations.updateService,
      START_DEPLOYMENT: this.#durations.startDeployment,
      PAUSE_SERVICE: this.#durations.pauseService,
      RESUME_SERVICE: this.#durations.resumeService,
      DELETE_SERVICE: this.#durations.deleteService,
    };
    return durations[type];
  }

  #specContext() {
    return {
      accountId: this.#accountId,
      region: this.#region,
      now: this.#clock.now(),
      defaultAutoScalingArn: this.#defaultAutoScalingArn,
    };
  }

  #eventContext() {
    return { accountId: this.#accountId, region: this.#region, time: this.#clock.now(), id: this.#newId() };
  }

  #arnPrefix(): string {
    return `arn:aws:apprunner:${this.#region}:${this.#accountId}`;
  }

  /** Service ids are 32 hex digits (FACTS §1 sample ARN). */
  #hexId(): string {
    return this.#newId().replaceAll("-", "").toLowerCase();
  }
}

function statusAfterFailure(type: OperationType, previous: ServiceStatus | undefined): ServiceStatus {
  if (type === "CREATE_SERVICE") return "CREATE_FAILED";
  if (type === "DELETE_SERVICE") return "DELETE_FAILED";
  return previous ?? "RUNNING";
}

function setStatus(operation: OperationRecord, status: OperationStatus, clock: TimerClock): void {
  // A late PENDING → IN_PROGRESS step must not overwrite an operation that already ended.
  if (status === "IN_PROGRESS" && operation.Status !== "PENDING") return;
  operation.Status = status;
  operation.UpdatedAt = clock.now();
}

function newestFirst(operations: OperationRecord[]): OperationRecord[] {
  return [...operations].sort((a, b) => b.seq - a.seq);
}

function describeActive(
  active: ActiveOperation,
): NonNullable<AppRunnerSnapshot["services"][number]["activeOperation"]> {
  const { operation, fault } = active;
  return {
    id: operation.Id,
    type: operation.Type,
    status: operation.Status,
    ...(fault ? { fault: fault.outcome } : {}),
  };
}

function toWireService(service: ServiceRecord): Json {
  return structuredClone({
    ServiceName: service.name,
    ServiceId: service.id,
    ServiceArn: service.arn,
    ServiceUrl: service.url,
    CreatedAt: epochSeconds(service.createdAt),
    UpdatedAt: epochSeconds(service.updatedAt),
    ...(service.deletedAt ? { DeletedAt: epochSeconds(service.deletedAt) } : {}),
    Status: service.status,
    ...service.spec,
    ...(service.encryption ? { EncryptionConfiguration: service.encryption } : {}),
  });
}

function toServiceSummary(service: ServiceRecord): Json {
  return {
    ServiceName: service.name,
    ServiceId: service.id,
    ServiceArn: service.arn,
    ServiceUrl: service.url,
    CreatedAt: epochSeconds(service.createdAt),
    UpdatedAt: epochSeconds(service.updatedAt),
    Status: service.status,
  };
}

function toWireOperation(operation: OperationRecord): Json {
  return {
    Id: operation.Id,
    Type: operation.Type,
    Status: operation.Status,
    TargetArn: operation.TargetArn,
    StartedAt: epochSeconds(operation.StartedAt),
    ...(operation.EndedAt ? { EndedAt: epochSeconds(operation.EndedAt) } : {}),
    UpdatedAt: epochSeconds(operation.UpdatedAt),
  };
}

/**
 * Pages over `items` (already in listing order). The token names the last item returned by its
 * sequence number, so items added or removed between pages neither repeat nor get skipped.
 */
function paginate<T extends { seq: number }>(
  items: T[],
  kind: string,
  order: "asc" | "desc",
  input: PageInput,
): { page: T[]; NextToken?: string } {
  const after = input.NextToken === undefined ? undefined : decodeToken(kind, input.NextToken);
  const rest =
    after === undefined
      ? items
      : items.filter((item) => (order === "asc" ? item.seq > after : item.seq < after));
  const size = input.MaxResults ?? rest.length;
  const page = rest.slice(0, size);
  const last = page.at(-1);
  if (!last || rest.length <= size) return { page };
  return { page, NextToken: Buffer.from(`${kind}:${last.seq}`).toString("base64url") };
}

function decodeToken(kind: string, token: string): number {
  const [tokenKind, seq] = Buffer.from(token, "base64url").toString("utf8").split(":");
  if (tokenKind !== kind || !seq || !/^\d+$/.test(seq)) throw invalid(`NextToken is not valid: ${token}`);
  return Number(seq);
}
