-- Usage rows written while this migration runs (by replicas not yet upgraded) wait for it, so the
-- trigger and the backfill below see every row exactly once (about 10 s per million rows).
LOCK TABLE "llm_usage" IN SHARE ROW EXCLUSIVE MODE;--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"day" date NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"source" text NOT NULL,
	"routed" boolean NOT NULL,
	"outcome" text NOT NULL,
	"calls" integer DEFAULT 0 NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"saved_usd" double precision DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_input_tokens" bigint DEFAULT 0 NOT NULL,
	"eligible_calls" integer DEFAULT 0 NOT NULL,
	"saved_tokens" bigint DEFAULT 0 NOT NULL,
	"latency_ms_sum" bigint DEFAULT 0 NOT NULL,
	"latency_count" integer DEFAULT 0 NOT NULL,
	"first_token_ms_sum" bigint DEFAULT 0 NOT NULL,
	"first_token_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_day_provider_model_source_routed_outcome_pk" PRIMARY KEY("day","provider","model","source","routed","outcome")
);
--> statement-breakpoint
CREATE TABLE "usage_user_daily" (
	"day" date NOT NULL,
	"user_id" uuid NOT NULL,
	"calls" integer DEFAULT 0 NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_user_daily_day_user_id_pk" PRIMARY KEY("day","user_id")
);
--> statement-breakpoint
ALTER TABLE "usage_user_daily" ADD CONSTRAINT "usage_user_daily_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "usage_user_daily_user_id_day_idx" ON "usage_user_daily" USING btree ("user_id","day");--> statement-breakpoint
-- Keeps both rollups as usage rows are written: the one place they are, whatever writes them.
CREATE FUNCTION "llm_usage_rollup"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	d date := (NEW.created_at AT TIME ZONE 'UTC')::date;
BEGIN
	INSERT INTO usage_daily AS u (day, provider, model, source, routed, outcome, calls, cost_usd,
		saved_usd, input_tokens, output_tokens, cached_input_tokens, eligible_calls, saved_tokens,
		latency_ms_sum, latency_count, first_token_ms_sum, first_token_count)
	VALUES (d, NEW.provider, NEW.model, NEW.source, NEW.routed, NEW.outcome, 1, NEW.cost_usd,
		NEW.saved_usd, NEW.input_tokens, NEW.output_tokens, NEW.cached_input_tokens,
		NEW.cache_eligible::int, NEW.saved_tokens,
		coalesce(NEW.latency_ms, 0), (NEW.latency_ms IS NOT NULL)::int,
		coalesce(NEW.first_token_ms, 0), (NEW.first_token_ms IS NOT NULL)::int)
	ON CONFLICT (day, provider, model, source, routed, outcome) DO UPDATE SET
		calls = u.calls + 1,
		cost_usd = u.cost_usd + EXCLUDED.cost_usd,
		saved_usd = u.saved_usd + EXCLUDED.saved_usd,
		input_tokens = u.input_tokens + EXCLUDED.input_tokens,
		output_tokens = u.output_tokens + EXCLUDED.output_tokens,
		cached_input_tokens = u.cached_input_tokens + EXCLUDED.cached_input_tokens,
		eligible_calls = u.eligible_calls + EXCLUDED.eligible_calls,
		saved_tokens = u.saved_tokens + EXCLUDED.saved_tokens,
		latency_ms_sum = u.latency_ms_sum + EXCLUDED.latency_ms_sum,
		latency_count = u.latency_count + EXCLUDED.latency_count,
		first_token_ms_sum = u.first_token_ms_sum + EXCLUDED.first_token_ms_sum,
		first_token_count = u.first_token_count + EXCLUDED.first_token_count;
	IF NEW.user_id IS NOT NULL THEN
		INSERT INTO usage_user_daily AS u (day, user_id, calls, cost_usd)
		VALUES (d, NEW.user_id, 1, NEW.cost_usd)
		ON CONFLICT (day, user_id) DO UPDATE SET
			calls = u.calls + 1, cost_usd = u.cost_usd + EXCLUDED.cost_usd;
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "llm_usage_rollup" AFTER INSERT ON "llm_usage" FOR EACH ROW EXECUTE FUNCTION "llm_usage_rollup"();
--> statement-breakpoint
-- Sums the whole log into the rollups again: here once for the log written before this migration,
-- and by hand after loading usage rows with triggers off (bench/scale.ts does).
CREATE FUNCTION "usage_rollups_rebuild"() RETURNS void LANGUAGE sql AS $$
	DELETE FROM usage_daily;
	DELETE FROM usage_user_daily;
	INSERT INTO usage_daily (day, provider, model, source, routed, outcome, calls, cost_usd, saved_usd,
		input_tokens, output_tokens, cached_input_tokens, eligible_calls, saved_tokens, latency_ms_sum,
		latency_count, first_token_ms_sum, first_token_count)
	SELECT (created_at AT TIME ZONE 'UTC')::date, provider, model, source, routed, outcome, count(*),
		sum(cost_usd), sum(saved_usd), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens),
		count(*) FILTER (WHERE cache_eligible), sum(saved_tokens), coalesce(sum(latency_ms), 0),
		count(latency_ms), coalesce(sum(first_token_ms), 0), count(first_token_ms)
	FROM llm_usage GROUP BY 1, 2, 3, 4, 5, 6;
	INSERT INTO usage_user_daily (day, user_id, calls, cost_usd)
	SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, count(*), sum(cost_usd)
	FROM llm_usage WHERE user_id IS NOT NULL GROUP BY 1, 2;
$$;
--> statement-breakpoint
SELECT "usage_rollups_rebuild"();
