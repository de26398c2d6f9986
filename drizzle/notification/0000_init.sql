CREATE SCHEMA IF NOT EXISTS "notification";
--> statement-breakpoint
CREATE TABLE "notification"."inbox" (
	"message_id" uuid NOT NULL,
	"handler" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_message_id_handler_pk" PRIMARY KEY("message_id","handler")
);
--> statement-breakpoint
CREATE TABLE "notification"."notifications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"message_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"template" text NOT NULL,
	"to" text NOT NULL,
	"subject" text NOT NULL,
	"text_body" text NOT NULL,
	"html_body" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_message_template_key" UNIQUE("message_id","template"),
	CONSTRAINT "notifications_template_check" CHECK ("notification"."notifications"."template" in ('order-confirmed', 'order-rejected', 'order-cancelled', 'order-shipped')),
	CONSTRAINT "notifications_status_check" CHECK ("notification"."notifications"."status" in ('pending', 'sent', 'failed')),
	CONSTRAINT "notifications_attempts_check" CHECK ("notification"."notifications"."attempts" >= 0),
	CONSTRAINT "notifications_sent_at_check" CHECK (("notification"."notifications"."status" = 'sent') = ("notification"."notifications"."sent_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "notification"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE INDEX "notifications_due_idx" ON "notification"."notifications" USING btree ("next_attempt_at") WHERE "notification"."notifications"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "notifications_order_idx" ON "notification"."notifications" USING btree ("order_id","id");--> statement-breakpoint
CREATE INDEX "outbox_unsent_idx" ON "notification"."outbox" USING btree ("created_at") WHERE "notification"."outbox"."sent_at" is null;