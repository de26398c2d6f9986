CREATE INDEX "cancelled_orders_cancelled_at_idx" ON "inventory"."cancelled_orders" USING btree ("cancelled_at");--> statement-breakpoint
CREATE INDEX "inbox_processed_idx" ON "inventory"."inbox" USING btree ("processed_at");--> statement-breakpoint
CREATE INDEX "outbox_sent_idx" ON "inventory"."outbox" USING btree ("sent_at") WHERE "inventory"."outbox"."sent_at" is not null;