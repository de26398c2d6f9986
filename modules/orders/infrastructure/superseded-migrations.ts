import type { SupersededMigration } from "../../../src/platform/migration-history.ts";

/**
 * Earlier variants of drizzle/orders/0000_init.sql. The file was regenerated in place twice before migrations
 * became append-only; databases migrated by those commits recorded the old file's hash and are upgraded to
 * today's 0000_init by the SQL below (src/platform/migration-history.ts), data kept. Nothing is ever added
 * here again: schema changes are new migrations (npm run lint:migrations enforces it).
 */

/** What 21a4218 added to 0000_init: the Idempotency-Key table. */
const IDEMPOTENCY_KEYS = `
CREATE TABLE "orders"."idempotency_keys" (
	"customer_id" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" text NOT NULL,
	"claim_id" uuid NOT NULL,
	"response_status" integer,
	"response_body" jsonb,
	"order_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_customer_id_key_pk" PRIMARY KEY("customer_id","key"),
	CONSTRAINT "idempotency_keys_status_known" CHECK ("orders"."idempotency_keys"."status" in ('in_flight', 'completed')),
	CONSTRAINT "idempotency_keys_key_length" CHECK (char_length("orders"."idempotency_keys"."key") between 1 and 255),
	CONSTRAINT "idempotency_keys_request_hash_sha256" CHECK ("orders"."idempotency_keys"."request_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "idempotency_keys_completed_has_response" CHECK ("orders"."idempotency_keys"."status" = 'in_flight' or ("orders"."idempotency_keys"."response_status" is not null and "orders"."idempotency_keys"."response_body" is not null))
);
ALTER TABLE "orders"."idempotency_keys" ADD CONSTRAINT "idempotency_keys_order_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;
`;

/** What d7d0a7a added to 0000_init: inventory's product version on the catalog copy (NULL for rows from before). */
const CATALOG_VERSION = `
ALTER TABLE "orders"."catalog" ADD COLUMN "version" integer;
`;

export const supersededMigrations: readonly SupersededMigration[] = [
  {
    hash: "2aa8dde16854f71d38e76baebc80fbe5c25c5df332c49d2e3f361f5a7e4dda6e",
    origin: "0000_init as generated at commit 0c02003",
    replacedBy: "0000_init",
    upgrade: IDEMPOTENCY_KEYS + CATALOG_VERSION,
  },
  {
    hash: "8086ad2e1d235d32ab3bec6178b71b6e43e5e5a023a21b43a28b0392f0f57727",
    origin: "0000_init as generated at commit 21a4218",
    replacedBy: "0000_init",
    upgrade: CATALOG_VERSION,
  },
];
