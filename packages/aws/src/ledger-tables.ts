import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";

/**
 * Key schema of the ledger and idempotency tables. `infra/storage.ts` declares the same keys for
 * AWS; the sandbox and tests create the tables in DynamoDB Local from here.
 */
export const LEDGER_KEYS = {
  partitionKey: "pk",
  sortKey: "sk",
  byDigestIndex: "byDigest",
  byDigestPartitionKey: "gsi1pk",
  byDigestSortKey: "gsi1sk",
  ttlAttribute: "expiresAt",
} as const;

export const IDEMPOTENCY_KEYS = { partitionKey: "id", ttlAttribute: "expiration" } as const;

export async function createLedgerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: LEDGER_KEYS.partitionKey, AttributeType: "S" },
        { AttributeName: LEDGER_KEYS.sortKey, AttributeType: "S" },
        { AttributeName: LEDGER_KEYS.byDigestPartitionKey, AttributeType: "S" },
        { AttributeName: LEDGER_KEYS.byDigestSortKey, AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: LEDGER_KEYS.partitionKey, KeyType: "HASH" },
        { AttributeName: LEDGER_KEYS.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: LEDGER_KEYS.byDigestIndex,
          KeySchema: [
            { AttributeName: LEDGER_KEYS.byDigestPartitionKey, KeyType: "HASH" },
            { AttributeName: LEDGER_KEYS.byDigestSortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: LEDGER_KEYS.ttlAttribute, Enabled: true },
    }),
  );
}

export async function createIdempotencyTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_KEYS.partitionKey, AttributeType: "S" }],
      KeySchema: [{ AttributeName: IDEMPOTENCY_KEYS.partitionKey, KeyType: "HASH" }],
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: IDEMPOTENCY_KEYS.ttlAttribute, Enabled: true },
    }),
  );
}
