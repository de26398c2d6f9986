CREATE SCHEMA IF NOT EXISTS "inventory";
--> statement-breakpoint
CREATE TABLE "inventory"."cancelled_orders" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"cancelled_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inventory"."inbox" (
	"message_id" uuid NOT NULL,
	"handler" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_message_id_handler_pk" PRIMARY KEY("message_id","handler")
);
--> statement-breakpoint
CREATE TABLE "inventory"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "inventory"."products" (
	"sku" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"price_cents" integer NOT NULL,
	"currency" char(3) NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"on_hand" integer DEFAULT 0 NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_price_cents_not_negative" CHECK ("inventory"."products"."price_cents" >= 0),
	CONSTRAINT "products_currency_iso" CHECK ("inventory"."products"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "products_on_hand_not_negative" CHECK ("inventory"."products"."on_hand" >= 0),
	CONSTRAINT "products_reserved_not_negative" CHECK ("inventory"."products"."reserved" >= 0),
	CONSTRAINT "products_available_not_negative" CHECK ("inventory"."products"."on_hand" >= "inventory"."products"."reserved")
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservations" (
	"order_id" uuid NOT NULL,
	"sku" text NOT NULL,
	"quantity" integer NOT NULL,
	"status" text DEFAULT 'held' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reservations_order_id_sku_pk" PRIMARY KEY("order_id","sku"),
	CONSTRAINT "reservations_quantity_positive" CHECK ("inventory"."reservations"."quantity" > 0),
	CONSTRAINT "reservations_status_known" CHECK ("inventory"."reservations"."status" in ('held', 'released', 'consumed'))
);
--> statement-breakpoint
ALTER TABLE "inventory"."reservations" ADD CONSTRAINT "reservations_sku_fk" FOREIGN KEY ("sku") REFERENCES "inventory"."products"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbox_unsent_idx" ON "inventory"."outbox" USING btree ("created_at") WHERE "inventory"."outbox"."sent_at" is null;--> statement-breakpoint
CREATE INDEX "reservations_held_sku_idx" ON "inventory"."reservations" USING btree ("sku") WHERE "inventory"."reservations"."status" = 'held';