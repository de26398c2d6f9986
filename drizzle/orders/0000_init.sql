CREATE SCHEMA IF NOT EXISTS "orders";
--> statement-breakpoint
CREATE TABLE "orders"."catalog" (
	"sku" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"price_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"active" boolean NOT NULL,
	"version" integer,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "catalog_price_not_negative" CHECK ("orders"."catalog"."price_cents" >= 0),
	CONSTRAINT "catalog_currency_iso" CHECK ("orders"."catalog"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
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
--> statement-breakpoint
CREATE TABLE "orders"."inbox" (
	"message_id" uuid NOT NULL,
	"handler" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_message_id_handler_pk" PRIMARY KEY("message_id","handler")
);
--> statement-breakpoint
CREATE TABLE "orders"."order_history" (
	"order_id" uuid NOT NULL,
	"status" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"reason" text,
	CONSTRAINT "order_history_order_id_status_pk" PRIMARY KEY("order_id","status"),
	CONSTRAINT "order_history_status_known" CHECK ("orders"."order_history"."status" in ('pending', 'confirmed', 'rejected', 'cancelled', 'shipped'))
);
--> statement-breakpoint
CREATE TABLE "orders"."order_items" (
	"order_id" uuid NOT NULL,
	"line_no" integer NOT NULL,
	"sku" text NOT NULL,
	"name" text NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price_cents" bigint NOT NULL,
	"line_total_cents" bigint NOT NULL,
	CONSTRAINT "order_items_order_id_line_no_pk" PRIMARY KEY("order_id","line_no"),
	CONSTRAINT "order_items_line_no_positive" CHECK ("orders"."order_items"."line_no" >= 1),
	CONSTRAINT "order_items_quantity_positive" CHECK ("orders"."order_items"."quantity" > 0),
	CONSTRAINT "order_items_unit_price_not_negative" CHECK ("orders"."order_items"."unit_price_cents" >= 0),
	CONSTRAINT "order_items_line_total" CHECK ("orders"."order_items"."line_total_cents" = "orders"."order_items"."unit_price_cents" * "orders"."order_items"."quantity")
);
--> statement-breakpoint
CREATE TABLE "orders"."orders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"customer_email" text NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"total_cents" bigint NOT NULL,
	"currency" text NOT NULL,
	"version" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "orders_status_known" CHECK ("orders"."orders"."status" in ('pending', 'confirmed', 'rejected', 'cancelled', 'shipped')),
	CONSTRAINT "orders_total_not_negative" CHECK ("orders"."orders"."total_cents" >= 0),
	CONSTRAINT "orders_currency_iso" CHECK ("orders"."orders"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "orders_version_positive" CHECK ("orders"."orders"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "orders"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "orders"."idempotency_keys" ADD CONSTRAINT "idempotency_keys_order_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders"."order_history" ADD CONSTRAINT "order_history_order_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders"."order_items" ADD CONSTRAINT "order_items_order_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "order_items_order_sku_idx" ON "orders"."order_items" USING btree ("order_id","sku");--> statement-breakpoint
CREATE INDEX "orders_customer_created_idx" ON "orders"."orders" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "orders_status_created_idx" ON "orders"."orders" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "orders_created_idx" ON "orders"."orders" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "outbox_unsent_idx" ON "orders"."outbox" USING btree ("created_at") WHERE "orders"."outbox"."sent_at" is null;