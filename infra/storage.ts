/**
 * Gantry's state: the ledger (releases, scans, deployments, quarantines) and the table
 * Powertools idempotency writes its records to.
 *
 * Functions do not link the tables themselves: SST's link for `sst.aws.Dynamo` grants
 * `dynamodb:*`, and the design allows no `*` actions. They link the `*Access` linkables below,
 * which carry the table name and exactly the data-plane calls the adapters make.
 */

/**
 * A protected stage (`prod`, `production` or GANTRY_PROTECTED_STAGES, see sst.config.ts): SST retains
 * both tables on removal; here they are also deletion-protected, and the ledger keeps point-in-time
 * recovery.
 */
const protectedStage = $app.protect;

/** Single-table design: `pk`/`sk` for records, `byDigest` to find every service a digest touches. */
export const ledger = new sst.aws.Dynamo("Ledger", {
  fields: {
    pk: "string",
    sk: "string",
    gsi1pk: "string",
    gsi1sk: "string",
  },
  primaryIndex: { hashKey: "pk", rangeKey: "sk" },
  globalIndexes: {
    byDigest: { hashKey: "gsi1pk", rangeKey: "gsi1sk" },
  },
  // Transient keys (leases, waiting candidates, scan deadlines) expire on their own.
  // DynamoDB deletes lazily, so readers still filter on `expiresAt`.
  ttl: "expiresAt",
  // The ledger is the deploy history: losing it on a protected stage is not an option.
  deletionProtection: protectedStage,
  transform: {
    // SST turns PITR on everywhere; it is billed per GB, so only protected stages pay for it.
    table: { pointInTimeRecovery: { enabled: protectedStage } },
  },
});

/** Powertools idempotency persistence layer: its default key and TTL attribute names. */
export const idempotency = new sst.aws.Dynamo("Idempotency", {
  fields: { id: "string" },
  primaryIndex: { hashKey: "id" },
  ttl: "expiration",
  // Deleting it under running functions would fail every handler until it is recreated.
  deletionProtection: protectedStage,
  transform: {
    // Records live for an hour at most; there is nothing to restore.
    table: { pointInTimeRecovery: { enabled: false } },
  },
});

/**
 * Ledger calls: conditional writes and transactions (`TransactWriteItems` is authorised per
 * item as Put/Update/Delete/ConditionCheck), reads and `byDigest` queries. No scans.
 */
export const LEDGER_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:ConditionCheckItem",
];

/** What `@aws-lambda-powertools/idempotency`'s DynamoDB persistence layer calls. */
export const IDEMPOTENCY_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
];

export const ledgerAccess = new sst.Linkable("LedgerAccess", {
  properties: { name: ledger.name, arn: ledger.arn },
  include: [
    sst.aws.permission({
      actions: LEDGER_ACTIONS,
      resources: [ledger.arn, $interpolate`${ledger.arn}/index/*`],
    }),
  ],
});

export const idempotencyAccess = new sst.Linkable("IdempotencyAccess", {
  properties: { name: idempotency.name, arn: idempotency.arn },
  include: [sst.aws.permission({ actions: IDEMPOTENCY_ACTIONS, resources: [idempotency.arn] })],
});
