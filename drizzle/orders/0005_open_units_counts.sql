CREATE TABLE "orders"."open_units" (
	"customer_id" text NOT NULL,
	"sku" text NOT NULL,
	"units" integer NOT NULL,
	"cap" integer NOT NULL,
	CONSTRAINT "open_units_customer_id_sku_pk" PRIMARY KEY("customer_id","sku"),
	CONSTRAINT "open_units_not_negative" CHECK ("orders"."open_units"."units" >= 0),
	CONSTRAINT "open_units_within_cap" CHECK ("orders"."open_units"."cap" = 0 or "orders"."open_units"."units" <= "orders"."open_units"."cap")
);
--> statement-breakpoint
DROP INDEX "orders"."orders_customer_open_idx";--> statement-breakpoint
-- What customers hold in the orders open at the upgrade (counted as placed without a cap: the next placement sets it).
INSERT INTO "orders"."open_units" ("customer_id", "sku", "units", "cap")
SELECT o."customer_id", i."sku", sum(i."quantity")::int, 0
FROM "orders"."orders" o JOIN "orders"."order_items" i ON i."order_id" = o."id"
WHERE o."status" IN ('pending', 'confirmed')
GROUP BY o."customer_id", i."sku";
