CREATE TABLE "pending_effects" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"tenant_id" uuid,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"keep_until" timestamp with time zone,
	"applied_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "pending_effects_pending_idx" ON "pending_effects" USING btree ("id") WHERE "pending_effects"."applied_at" is null;--> statement-breakpoint
CREATE INDEX "pending_effects_keep_idx" ON "pending_effects" USING btree ("keep_until");