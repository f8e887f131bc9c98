import {
  type AppRunnerClient,
  DescribeServiceCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  type Service,
  type ServiceSummary,
} from "@aws-sdk/client-apprunner";
import {
  type Clock,
  type FleetIndexStore,
  type IndexedService,
  isManaged,
  type ManagedService,
} from "@gantry/core";

/** Which App Runner services carry `gantry:managed=true`, by ARN, with all their tags. */
export interface ManagedTagsPort {
  managedServiceTags(): Promise<Map<string, Record<string, string>>>;
}

export interface FleetDiscoveryOptions {
  /**
   * The Resource Groups Tagging API (`ManagedTagsAdapter`): the managed services with their tags,
   * 100 per call, against its own rate limits, not App Runner's. Without it every live service
   * costs one ListTagsForResource per walk.
   */
  managedTags?: ManagedTagsPort;
  /** The fleet index in the ledger: what every instance described before, and when it last walked. */
  index?: FleetIndexStore;
}

/**
 * ListServices returns at most 20 services per call
 * (https://docs.aws.amazon.com/apprunner/latest/api/API_ListServices.html).
 */
const LIST_SERVICES_PAGE = 20;
/**
 * The tagging API is fed from each service asynchronously: a service created moments ago (a new
 * service, or one Gantry recreated) may not be listed with its tags yet. Services younger than this
 * are asked directly with ListTagsForResource when the tagging API does not list them.
 */
export const TAGGING_LAG_MS = 15 * 60_000;
/**
 * Indexed services a walk describes again at most (20 s at 5 calls/s). After a fleet-wide deploy
 * every UpdatedAt moves: the rest keep their last description (status and tags are always this
 * walk's) and later walks describe them, 100 at a time. A service never described is always
 * described (there is nothing else to know its image by), and so is one this instance updated.
 */
export const MAX_REDESCRIBES_PER_WALK = 100;

/**
 * Which App Runner services Gantry manages, and what they run, at fleet scale.
 *
 * A walk costs ⌈services / 20⌉ ListServices calls (status, UpdatedAt and CreatedAt of every live
 * service) plus ⌈managed / 100⌉ GetResources calls to the tagging API (which services are managed,
 * with their tags). DescribeService (the image and auto-deploy setting) is called only for managed
 * services whose UpdatedAt moved since the fleet index last described them, or that this instance
 * changed itself (at most `MAX_REDESCRIBES_PER_WALK` a walk). At 1,000 services that is 50 App
 * Runner calls per walk instead of ~2,050 (ListServices + ListTagsForResource and DescribeService
 * per service): 10 s instead of 410 s at the default 5 calls/s.
 *
 * The index lives in the ledger, so a cold instance does not describe the fleet again, and a walk
 * any instance made within the TTL is reused as it is: the fleet is walked about once per TTL, not
 * once per instance. Each page's new descriptions are stored as the walk goes, so a first walk cut
 * short by a timeout keeps its progress. ListServices decides what exists (the tagging API may
 * still list deleted resources: https://github.com/aws/aws-sdk/issues/302); the tagging API decides
 * which are managed.
 */
export class FleetDiscovery {
  #cache?: { until: number; services: Map<string, IndexedService> };
  /** Services this instance changed (UpdateService) since the cache was filled: described again. */
  readonly #changed = new Set<string>();
  /** This instance created or deleted a service: its next discovery walks, whatever the index says. */
  #mustWalk = false;

  constructor(
    private readonly client: AppRunnerClient,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly options: FleetDiscoveryOptions = {},
  ) {}

  async managedServices(): Promise<ManagedService[]> {
    const now = this.clock.now().getTime();
    if (!this.#cache || this.#cache.until <= now) this.#cache = await this.#refresh(now);
    const cache = this.#cache;
    const described: IndexedService[] = [];
    for (const serviceArn of [...this.#changed]) {
      const known = cache.services.get(serviceArn);
      this.#changed.delete(serviceArn);
      if (!known) continue;
      const entry = indexed(await this.#describe(serviceArn), known.tags, known.updatedAt);
      cache.services.set(serviceArn, entry);
      described.push(entry);
    }
    if (described.length > 0) await this.options.index?.saveFleetIndex({ put: described });
    return [...cache.services.values()].map(managedView);
  }

  /** UpdateService went out for this service: its next discovery describes it again. */
  changed(serviceArn: string): void {
    this.#changed.add(serviceArn);
  }

  /** A service was created or deleted: the next discovery walks the fleet. */
  forget(): void {
    this.#cache = undefined;
    this.#mustWalk = true;
  }

  async #refresh(now: number): Promise<{ until: number; services: Map<string, IndexedService> }> {
    const index = (await this.options.index?.fleetIndex()) ?? { services: [] };
    const walkedAt = index.walkedAt ? Date.parse(index.walkedAt) : Number.NaN;
    if (!this.#mustWalk && walkedAt <= now && now - walkedAt < this.ttlMs) {
      // Another instance walked moments ago: its answer is as fresh as this instance's cache would be.
      return { until: walkedAt + this.ttlMs, services: byArn(index.services) };
    }
    this.#mustWalk = false;
    return { until: now + this.ttlMs, services: await this.#walk(now, byArn(index.services)) };
  }

  async #walk(now: number, known: Map<string, IndexedService>): Promise<Map<string, IndexedService>> {
    const tagged = await this.options.managedTags?.managedServiceTags();
    const services = new Map<string, IndexedService>();
    let redescribes = 0;
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListServicesCommand({ NextToken, MaxResults: LIST_SERVICES_PAGE }),
      );
      const put: IndexedService[] = [];
      for (const summary of page.ServiceSummaryList ?? []) {
        const serviceArn = summary.ServiceArn;
        if (!serviceArn || summary.Status === "DELETED") continue;
        const tags = await this.#tagsOf(summary, tagged, now);
        if (!tags || !isManaged(tags)) continue;
        const previous = known.get(serviceArn);
        const updatedAt = summary.UpdatedAt?.toISOString();
        const mine = this.#changed.delete(serviceArn);
        const unchanged =
          previous !== undefined && updatedAt !== undefined && previous.updatedAt === updatedAt;
        const deferred = previous !== undefined && !mine && redescribes >= MAX_REDESCRIBES_PER_WALK;
        if (previous && !unchanged && !deferred) redescribes += 1;
        const entry =
          previous && !mine && (unchanged || deferred)
            ? { ...previous, status: summary.Status ?? previous.status, tags }
            : indexed(await this.#describe(serviceArn), tags, updatedAt);
        services.set(serviceArn, entry);
        if (!previous || !sameEntry(previous, entry)) put.push(entry);
      }
      // Stored page by page: a first walk of a large fleet cut short by a timeout keeps its progress.
      if (put.length > 0) await this.options.index?.saveFleetIndex({ put });
      NextToken = page.NextToken;
    } while (NextToken);
    const remove = [...known.keys()].filter((serviceArn) => !services.has(serviceArn));
    await this.options.index?.saveFleetIndex({ remove, walkedAt: new Date(now).toISOString() });
    return services;
  }

  /** Tags of a live service, or undefined when it is not managed. */
  async #tagsOf(
    summary: ServiceSummary,
    tagged: Map<string, Record<string, string>> | undefined,
    now: number,
  ): Promise<Record<string, string> | undefined> {
    const serviceArn = summary.ServiceArn as string;
    if (!tagged) return this.#listTags(serviceArn);
    const fromTagging = tagged.get(serviceArn);
    if (fromTagging) return fromTagging;
    const createdAt = summary.CreatedAt?.getTime();
    if (createdAt !== undefined && now - createdAt < TAGGING_LAG_MS) return this.#listTags(serviceArn);
    return undefined;
  }

  #listTags(serviceArn: string): Promise<Record<string, string>> {
    return listServiceTags(this.client, serviceArn);
  }

  async #describe(serviceArn: string): Promise<Service> {
    const { Service: service } = await this.client.send(
      new DescribeServiceCommand({ ServiceArn: serviceArn }),
    );
    if (!service) throw new Error(`DescribeService returned no service for ${serviceArn}`);
    return service;
  }
}

function indexed(
  service: Service,
  tags: Record<string, string>,
  updatedAt: string | undefined,
): IndexedService {
  return {
    ...toManaged(service, tags),
    // DescribeService's own UpdatedAt is the newest; the summary's is the fallback.
    updatedAt: service.UpdatedAt?.toISOString() ?? updatedAt ?? new Date(0).toISOString(),
  };
}

/** What Gantry keeps of a described service (ports.ts ManagedService). */
export function toManaged(service: Service, tags: Record<string, string>): ManagedService {
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

function managedView({ updatedAt: _updatedAt, ...service }: IndexedService): ManagedService {
  return { ...service, tags: { ...service.tags } };
}

function byArn(services: IndexedService[]): Map<string, IndexedService> {
  return new Map(services.map((service) => [service.serviceArn, service]));
}

function sameEntry(a: IndexedService, b: IndexedService): boolean {
  const tagsOf = (service: IndexedService) => JSON.stringify(Object.entries(service.tags).sort());
  return (
    a.serviceName === b.serviceName &&
    a.status === b.status &&
    a.imageIdentifier === b.imageIdentifier &&
    a.autoDeploymentsEnabled === b.autoDeploymentsEnabled &&
    a.port === b.port &&
    a.updatedAt === b.updatedAt &&
    tagsOf(a) === tagsOf(b)
  );
}

/** A tag list (App Runner's or the tagging API's) as a record; keys only, as AWS allows empty values. */
export function tagRecord(tags: readonly { Key?: string | undefined; Value?: string | undefined }[]) {
  return Object.fromEntries(
    tags.filter((tag) => tag.Key).map((tag) => [tag.Key as string, tag.Value ?? ""]),
  ) as Record<string, string>;
}

/** ListTagsForResource for one service. */
export async function listServiceTags(
  client: AppRunnerClient,
  serviceArn: string,
): Promise<Record<string, string>> {
  const { Tags = [] } = await client.send(new ListTagsForResourceCommand({ ResourceArn: serviceArn }));
  return tagRecord(Tags);
}
