CREATE INDEX "idempotency_keys_created_idx" ON "orders"."idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "inbox_processed_idx" ON "orders"."inbox" USING btree ("processed_at");--> statement-breakpoint
CREATE INDEX "outbox_sent_idx" ON "orders"."outbox" USING btree ("sent_at") WHERE "orders"."outbox"."sent_at" is not null;