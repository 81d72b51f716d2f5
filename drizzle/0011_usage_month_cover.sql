-- The admin's "top users this month" sums a month of per-user days: carrying user, calls and cost
-- in a day index lets it read the index alone (3.4 -> 1.6 ms at 20,000 users). It makes the usage
-- trigger's updates of these rows write an index entry each, small beside the AI call they record.
CREATE INDEX "usage_user_daily_day_cover_idx" ON "usage_user_daily" ("day") INCLUDE ("user_id", "calls", "cost_usd");
