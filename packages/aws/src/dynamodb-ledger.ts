import { type DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
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
} from "@gantry/core";
import { LEDGER_KEYS } from "./ledger-tables.ts";

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

const service = (serviceArn: string) => `SVC#${serviceArn}`;
const releaseKey = (serviceArn: string, digest: string) => ({ pk: service(serviceArn), sk: `REL#${digest}` });
const slotKey = (serviceArn: string) => ({ pk: service(serviceArn), sk: "SLOT" });
const scanKey = (repository: string, digest: string) => ({ pk: `IMG#${repository}@${digest}`, sk: "SCAN" });
const recordKey = (serviceName: string) => ({ pk: `SVCNAME#${serviceName}`, sk: "RECORD" });
const RECREATE_INDEX = "RECREATE";
/** The fleet index and the reconciler's cursor share one partition: one Query reads the index. */
const FLEET = "FLEET";
const fleetEntryKey = (serviceArn: string) => ({ pk: FLEET, sk: `SVC#${serviceArn}` });
const fleetWalkKey = { pk: FLEET, sk: "WALK" };
const reconcileCursorKey = { pk: FLEET, sk: "CURSOR#reconcile" };
/** Index writes in flight at once: a first walk stores a whole fleet. */
const FLEET_WRITE_CONCURRENCY = 8;

/**
 * The ledger on one DynamoDB table (single-table design):
 * - release   pk SVC#<arn>  sk REL#<digest>   gsi1 DIGEST#<digest> / SVC#<arn>
 * - slot      pk SVC#<arn>  sk SLOT           (the service's running operation and waiting digest)
 * - journal   pk SVC#<arn>  sk LOG#<iso time>#<key>  (history, newest first by sort key)
 * - scan      pk IMG#<repo>@<digest> sk SCAN
 * - record    pk SVCNAME#<name> sk RECORD (spec, recovery, pause: outlives a recreated service's ARN)
 *             gsi1 RECREATE / SVCNAME#<name> only while a recreate is in flight (a sparse index entry:
 *             the reconciler finds those services here, as App Runner no longer lists them)
 * - fleet     pk FLEET sk SVC#<arn> (the managed services as last described, with App Runner's
 *             UpdatedAt), sk WALK (when the fleet was last walked), sk CURSOR#reconcile
 * Every state change is a conditional write on `version`; a multi-item change is one transaction.
 */
export class DynamoDbLedger implements LedgerPort, FleetIndexStore {
  readonly #documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    });
  }

  async getRelease(serviceArn: string, digest: string): Promise<Release | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: releaseKey(serviceArn, digest),
        ConsistentRead: true,
      }),
    );
    return Item?.release as Release | undefined;
  }

  async releasesByDigest(digest: string): Promise<Release[]> {
    const items = await this.#queryAll({
      IndexName: LEDGER_KEYS.byDigestIndex,
      KeyConditionExpression: "gsi1pk = :digest",
      ExpressionAttributeValues: { ":digest": `DIGEST#${digest}` },
    });
    return items.map((item) => item.release as Release);
  }

  async releasesByService(serviceArn: string): Promise<Release[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": service(serviceArn), ":prefix": "REL#" },
      ConsistentRead: true,
    });
    return items
      .map((item) => item.release as Release)
      .sort((a, b) => b.pushedAt.localeCompare(a.pushedAt) || b.digest.localeCompare(a.digest));
  }

  async getSlot(serviceArn: string): Promise<ServiceSlot | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.tableName, Key: slotKey(serviceArn), ConsistentRead: true }),
    );
    return Item?.slot as ServiceSlot | undefined;
  }

  async getScan(repository: string, digest: string): Promise<ScanRecord | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.tableName, Key: scanKey(repository, digest), ConsistentRead: true }),
    );
    return Item?.scan as ScanRecord | undefined;
  }

  async putScan(scan: ScanRecord): Promise<boolean> {
    try {
      // Newest result wins: ISO-8601 times in one format compare correctly as strings.
      await this.#documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...scanKey(scan.repository, scan.digest), scannedAt: scan.scannedAt, scan },
          ...(scan.scannedAt
            ? {
                ConditionExpression:
                  "attribute_not_exists(pk) OR attribute_not_exists(scannedAt) OR scannedAt < :scannedAt",
                ExpressionAttributeValues: { ":scannedAt": scan.scannedAt },
              }
            : { ConditionExpression: "attribute_not_exists(pk)" }),
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  async commit(writes: LedgerWrite[]): Promise<void> {
    if (writes.length === 0) return;
    try {
      await this.#documents.send(
        new TransactWriteCommand({ TransactItems: writes.map((write) => this.#toItem(write)) }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException && isConditionFailure(error)) {
        throw new LedgerConflictError(`ledger write lost a race (${describe(writes)})`);
      }
      throw error;
    }
  }

  async history(serviceArn: string, limit = 100): Promise<JournalEntry[]> {
    const { Items = [] } = await this.#documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": service(serviceArn), ":prefix": "LOG#" },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map((item) => item.entry as JournalEntry);
  }

  async getServiceRecord(serviceName: string): Promise<ServiceRecord | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.tableName, Key: recordKey(serviceName), ConsistentRead: true }),
    );
    return Item?.record as ServiceRecord | undefined;
  }

  async recreatesInFlight(): Promise<ServiceRecord[]> {
    const items = await this.#queryAll({
      IndexName: LEDGER_KEYS.byDigestIndex,
      KeyConditionExpression: "gsi1pk = :recreate",
      ExpressionAttributeValues: { ":recreate": RECREATE_INDEX },
    });
    return items.map((item) => item.record as ServiceRecord);
  }

  async putServiceRecord(record: ServiceRecord, expectedVersion: number | undefined): Promise<void> {
    // A put replaces the whole item: the index entry goes away with the recreate's end.
    const indexed = recreateInFlight(record)
      ? { gsi1pk: RECREATE_INDEX, gsi1sk: recordKey(record.serviceName).pk }
      : {};
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...recordKey(record.serviceName), ...indexed, version: record.version, record },
          ...(expectedVersion === undefined
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : {
                ConditionExpression: "version = :expected",
                ExpressionAttributeValues: { ":expected": expectedVersion },
              }),
        }),
      );
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") {
        throw new LedgerConflictError(`service record ${record.serviceName} changed concurrently`);
      }
      throw error;
    }
  }

  async fleetIndex(): Promise<FleetIndex> {
    // Eventually consistent is enough: the index is a cache of App Runner, refreshed by every walk.
    const items = await this.#queryAll({
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": FLEET },
    });
    const services = items
      .filter((item) => String(item.sk).startsWith("SVC#"))
      .map((item) => item.service as IndexedService)
      .sort((a, b) => a.serviceArn.localeCompare(b.serviceArn));
    const walkedAt = items.find((item) => item.sk === fleetWalkKey.sk)?.walkedAt as string | undefined;
    return { services, ...(walkedAt ? { walkedAt } : {}) };
  }

  async saveFleetIndex(change: {
    put?: IndexedService[];
    remove?: string[];
    walkedAt?: string;
  }): Promise<void> {
    const writes: (() => Promise<void>)[] = [
      ...(change.put ?? []).map((entry) => () => this.#putFleetEntry(entry)),
      ...(change.remove ?? []).map((serviceArn) => async () => {
        await this.#documents.send(
          new DeleteCommand({ TableName: this.tableName, Key: fleetEntryKey(serviceArn) }),
        );
      }),
    ];
    for (let start = 0; start < writes.length; start += FLEET_WRITE_CONCURRENCY) {
      await Promise.all(writes.slice(start, start + FLEET_WRITE_CONCURRENCY).map((write) => write()));
    }
    if (change.walkedAt) {
      await this.#putUnlessNewer(
        { ...fleetWalkKey, walkedAt: change.walkedAt },
        "walkedAt < :value",
        change.walkedAt,
      );
    }
  }

  async reconcileCursor(): Promise<string | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.tableName, Key: reconcileCursorKey, ConsistentRead: true }),
    );
    return Item?.serviceArn as string | undefined;
  }

  async saveReconcileCursor(serviceArn: string): Promise<void> {
    await this.#documents.send(
      new PutCommand({ TableName: this.tableName, Item: { ...reconcileCursorKey, serviceArn } }),
    );
  }

  /** An entry described earlier (a slower concurrent walk) never replaces a newer description. */
  async #putFleetEntry(entry: IndexedService): Promise<void> {
    await this.#putUnlessNewer(
      { ...fleetEntryKey(entry.serviceArn), updatedAt: entry.updatedAt, service: entry },
      "updatedAt <= :value",
      entry.updatedAt,
    );
  }

  async #putUnlessNewer(item: Record<string, unknown>, condition: string, value: string): Promise<void> {
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: `attribute_not_exists(pk) OR ${condition}`,
          ExpressionAttributeValues: { ":value": value },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    }
  }

  #toItem(write: LedgerWrite): TransactItem {
    const TableName = this.tableName;
    switch (write.kind) {
      case "put-release":
        return {
          Put: {
            TableName,
            Item: releaseItem(write.release),
            ConditionExpression: "attribute_not_exists(pk)",
          },
        };
      case "update-release":
        return {
          Put: {
            TableName,
            Item: releaseItem(write.release),
            ConditionExpression: "version = :expected",
            ExpressionAttributeValues: { ":expected": write.expectedVersion },
          },
        };
      case "put-slot":
        return {
          Put: {
            TableName,
            Item: { ...slotKey(write.slot.serviceArn), version: write.slot.version, slot: write.slot },
            ...(write.expectedVersion === undefined
              ? { ConditionExpression: "attribute_not_exists(pk)" }
              : {
                  ConditionExpression: "version = :expected",
                  ExpressionAttributeValues: { ":expected": write.expectedVersion },
                }),
          },
        };
      case "journal":
        return {
          Put: {
            TableName,
            Item: {
              pk: service(write.entry.serviceArn),
              sk: `LOG#${write.entry.at}#${write.entry.key}`,
              entry: write.entry,
            },
          },
        };
    }
  }

  async #queryAll(input: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName">) {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#documents.send(
        new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}

/** A release item: keyed by service + digest, indexed by digest, `version` on top for conditions. */
function releaseItem(release: Release) {
  return {
    ...releaseKey(release.serviceArn, release.digest),
    gsi1pk: `DIGEST#${release.digest}`,
    gsi1sk: service(release.serviceArn),
    version: release.version,
    release,
  };
}

function isConditionFailure(error: TransactionCanceledException): boolean {
  return (error.CancellationReasons ?? []).some(
    (reason) => reason.Code === "ConditionalCheckFailed" || reason.Code === "TransactionConflict",
  );
}

function describe(writes: LedgerWrite[]): string {
  return writes.map((write) => write.kind).join(", ");
}
