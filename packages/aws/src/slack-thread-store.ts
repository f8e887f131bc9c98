import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type Clock, type SlackThread, SlackThreadBusyError, type SlackThreadStorePort } from "@gantry/core";

/** Long enough for one delivery with its Slack retries, shorter than Lambda's first retry (1 min). */
const DEFAULT_LEASE_MS = 55_000;
/** A thread a release has not touched for this long is forgotten (DynamoDB TTL). */
const DEFAULT_RETENTION_DAYS = 90;

const threadKey = (key: string, channel: string) => ({ pk: `SLACK#${key}`, sk: `CHANNEL#${channel}` });
const nonceKey = (nonce: string) => ({ pk: `SLACK#NONCE#${nonce}`, sk: "NONCE" });

/**
 * Slack threads in the ledger table, under their own key prefix (no other record starts with
 * `SLACK#`, and none carries the `byDigest` index keys):
 * - thread  pk SLACK#<release id>  sk CHANNEL#<channel>   the root's ts, what was posted, the lease
 * - nonce   pk SLACK#NONCE#<hash>  sk NONCE               a seen interactivity request (TTL)
 * A thread outlives cold starts and redeploys; the lease (a conditional write) keeps two deliveries
 * of one notification from both posting.
 */
export class DynamoDbSlackThreadStore implements SlackThreadStorePort {
  readonly #documents: DynamoDBDocumentClient;
  readonly #leaseMs: number;
  readonly #retentionMs: number;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    private readonly clock: Clock,
    options: { leaseMs?: number; retentionDays?: number } = {},
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#retentionMs = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * 24 * 60 * 60_000;
  }

  async acquire(key: string, channel: string, owner: string): Promise<SlackThread | undefined> {
    const now = this.clock.now().getTime();
    const fresh: SlackThread = { threadKey: key, channel, posted: {} };
    try {
      const { Attributes } = await this.#documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: threadKey(key, channel),
          UpdateExpression:
            "SET leaseOwner = :owner, leaseUntil = :until, expiresAt = :ttl, thread = if_not_exists(thread, :fresh)",
          ConditionExpression: "attribute_not_exists(leaseUntil) OR leaseUntil < :now",
          ExpressionAttributeValues: {
            ":owner": owner,
            ":until": now + this.#leaseMs,
            ":now": now,
            ":ttl": this.#ttl(now),
            ":fresh": fresh,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes?.thread as SlackThread;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async checkpoint(thread: SlackThread, owner: string): Promise<void> {
    await this.#write(thread, owner, "SET thread = :thread, expiresAt = :ttl");
  }

  async release(thread: SlackThread, owner: string): Promise<void> {
    await this.#write(thread, owner, "SET thread = :thread, expiresAt = :ttl REMOVE leaseOwner, leaseUntil");
  }

  async abandon(thread: SlackThread, owner: string): Promise<void> {
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: threadKey(thread.threadKey, thread.channel),
          UpdateExpression: "REMOVE leaseOwner, leaseUntil",
          ConditionExpression: "leaseOwner = :owner",
          ExpressionAttributeValues: { ":owner": owner },
        }),
      );
    } catch (error) {
      // Expired and taken by another delivery meanwhile: nothing of ours to give back.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async threadsOf(key: string): Promise<SlackThread[]> {
    const { Items = [] } = await this.#documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": `SLACK#${key}`, ":prefix": "CHANNEL#" },
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => item.thread as SlackThread);
  }

  async claimNonce(nonce: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...nonceKey(nonce), expiresAt: Math.ceil(expiresAt.getTime() / 1000) },
          // TTL deletes lazily: an expired record does not count as seen.
          ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
          ExpressionAttributeValues: { ":now": Math.floor(this.clock.now().getTime() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async #write(thread: SlackThread, owner: string, update: string): Promise<void> {
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: threadKey(thread.threadKey, thread.channel),
          UpdateExpression: update,
          ConditionExpression: "leaseOwner = :owner",
          ExpressionAttributeValues: {
            ":owner": owner,
            ":thread": thread,
            ":ttl": this.#ttl(this.clock.now().getTime()),
          },
        }),
      );
    } catch (error) {
      // The lease ran out and another delivery took the thread: let the platform retry this one.
      if (isConditionFailure(error)) throw new SlackThreadBusyError(thread.threadKey, thread.channel);
      throw error;
    }
  }

  #ttl(now: number): number {
    return Math.ceil((now + this.#retentionMs) / 1000);
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === "ConditionalCheckFailedException";
}
