import {
  type FleetIndex,
  type FleetIndexStore,
  type IndexedService,
  type JournalEntry,
  LedgerConflictError,
  type LedgerPort,
  type LedgerWrite,
  type Release,
  recreateInFlight,
  type ScanRecord,
  type ServiceRecord,
  type ServiceSlot,
} from "../../src/index.ts";

/**
 * The ledger's semantics without DynamoDB, for core unit tests only (DESIGN: the real ledger is
 * tested against DynamoDB Local; `packages/aws/test/ledger-contract.test.ts` runs the same contract
 * against both). Values are copied through JSON on every read and write, as DynamoDB marshalling
 * does (undefined fields vanish), so a use case can never mutate stored state by reference.
 */
export class InMemoryLedger implements LedgerPort, FleetIndexStore {
  readonly #releases = new Map<string, Release>();
  readonly #slots = new Map<string, ServiceSlot>();
  readonly #scans = new Map<string, ScanRecord>();
  readonly #journal = new Map<string, JournalEntry>();
  readonly #records = new Map<string, ServiceRecord>();
  readonly #fleet = new Map<string, IndexedService>();
  #walkedAt: string | undefined;
  #cursor: string | undefined;
  /** Runs before every read and write: lets a test interleave concurrent handlers (see `yieldTicks`). */
  beforeEach?: () => Promise<void>;
  /** Runs before a commit is applied, with its writes: lets a test make a concurrent writer win a race. */
  beforeCommit?: (writes: readonly LedgerWrite[]) => Promise<void> | void;
  commits = 0;
  conflicts = 0;

  async getRelease(serviceArn: string, digest: string): Promise<Release | undefined> {
    await this.beforeEach?.();
    return copy(this.#releases.get(releaseKey(serviceArn, digest)));
  }

  async releasesByDigest(digest: string): Promise<Release[]> {
    await this.beforeEach?.();
    return [...this.#releases.values()].filter((release) => release.digest === digest).map(copyOf);
  }

  async releasesByService(serviceArn: string): Promise<Release[]> {
    await this.beforeEach?.();
    return [...this.#releases.values()]
      .filter((release) => release.serviceArn === serviceArn)
      .sort((a, b) => b.pushedAt.localeCompare(a.pushedAt) || b.digest.localeCompare(a.digest))
      .map(copyOf);
  }

  async getSlot(serviceArn: string): Promise<ServiceSlot | undefined> {
    await this.beforeEach?.();
    return copy(this.#slots.get(serviceArn));
  }

  async getScan(repository: string, digest: string): Promise<ScanRecord | undefined> {
    await this.beforeEach?.();
    return copy(this.#scans.get(`${repository}@${digest}`));
  }

  async putScan(scan: ScanRecord): Promise<boolean> {
    await this.beforeEach?.();
    const key = `${scan.repository}@${scan.digest}`;
    const stored = this.#scans.get(key);
    if (stored && !(scan.scannedAt && (!stored.scannedAt || stored.scannedAt < scan.scannedAt))) return false;
    this.#scans.set(key, copyOf(scan));
    return true;
  }

  async commit(writes: LedgerWrite[]): Promise<void> {
    await this.beforeEach?.();
    await this.beforeCommit?.(writes);
    // All conditions are checked before anything is applied: a transaction is all or nothing.
    for (const write of writes) {
      if (!this.#holds(write)) {
        this.conflicts++;
        throw new LedgerConflictError(`ledger write lost a race (${writes.map((w) => w.kind).join(", ")})`);
      }
    }
    for (const write of writes) this.#apply(write);
    this.commits++;
  }

  async history(serviceArn: string, limit = 100): Promise<JournalEntry[]> {
    await this.beforeEach?.();
    return [...this.#journal.entries()]
      .filter(([, entry]) => entry.serviceArn === serviceArn)
      .sort(([a], [b]) => b.localeCompare(a))
      .slice(0, limit)
      .map(([, entry]) => copyOf(entry));
  }

  async getServiceRecord(serviceName: string): Promise<ServiceRecord | undefined> {
    await this.beforeEach?.();
    return copy(this.#records.get(serviceName));
  }

  async putServiceRecord(record: ServiceRecord, expectedVersion: number | undefined): Promise<void> {
    await this.beforeEach?.();
    const current = this.#records.get(record.serviceName);
    if (expectedVersion === undefined ? current !== undefined : current?.version !== expectedVersion) {
      this.conflicts++;
      throw new LedgerConflictError(`service record ${record.serviceName} changed concurrently`);
    }
    this.#records.set(record.serviceName, copyOf(record));
  }

  async recreatesInFlight(): Promise<ServiceRecord[]> {
    await this.beforeEach?.();
    return [...this.#records.values()].filter(recreateInFlight).map(copyOf);
  }

  async fleetIndex(): Promise<FleetIndex> {
    await this.beforeEach?.();
    const services = [...this.#fleet.values()]
      .sort((a, b) => a.serviceArn.localeCompare(b.serviceArn))
      .map(copyOf);
    return { services, ...(this.#walkedAt ? { walkedAt: this.#walkedAt } : {}) };
  }

  async saveFleetIndex(change: {
    put?: IndexedService[];
    remove?: string[];
    walkedAt?: string;
  }): Promise<void> {
    await this.beforeEach?.();
    for (const entry of change.put ?? []) {
      const stored = this.#fleet.get(entry.serviceArn);
      if (!stored || stored.updatedAt <= entry.updatedAt) this.#fleet.set(entry.serviceArn, copyOf(entry));
    }
    for (const serviceArn of change.remove ?? []) this.#fleet.delete(serviceArn);
    if (change.walkedAt && (!this.#walkedAt || this.#walkedAt < change.walkedAt))
      this.#walkedAt = change.walkedAt;
  }

  async reconcileCursor(): Promise<string | undefined> {
    await this.beforeEach?.();
    return this.#cursor;
  }

  async saveReconcileCursor(serviceArn: string): Promise<void> {
    await this.beforeEach?.();
    this.#cursor = serviceArn;
  }

  /** Every stored release, for assertions. */
  allReleases(): Release[] {
    return [...this.#releases.values()].map(copyOf);
  }

  #holds(write: LedgerWrite): boolean {
    switch (write.kind) {
      case "put-release":
        return !this.#releases.has(releaseKey(write.release.serviceArn, write.release.digest));
      case "update-release":
        return (
          this.#releases.get(releaseKey(write.release.serviceArn, write.release.digest))?.version ===
          write.expectedVersion
        );
      case "put-slot": {
        const current = this.#slots.get(write.slot.serviceArn);
        return write.expectedVersion === undefined
          ? current === undefined
          : current?.version === write.expectedVersion;
      }
      case "journal":
        return true;
    }
  }

  #apply(write: LedgerWrite): void {
    switch (write.kind) {
      case "put-release":
      case "update-release":
        this.#releases.set(releaseKey(write.release.serviceArn, write.release.digest), copyOf(write.release));
        return;
      case "put-slot":
        this.#slots.set(write.slot.serviceArn, copyOf(write.slot));
        return;
      case "journal":
        // Same sort key as the DynamoDB ledger: time, then the idempotency key.
        this.#journal.set(
          `${write.entry.serviceArn}|${write.entry.at}#${write.entry.key}`,
          copyOf(write.entry),
        );
        return;
    }
  }
}

const releaseKey = (serviceArn: string, digest: string) => `${serviceArn}|${digest}`;

function copyOf<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function copy<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : copyOf(value);
}
