-- Trigram indexes for the admin's user search. pg_trgm is in PostgreSQL's contrib (and trusted: the
-- database owner may create it); PGlite loads its build of it (db/index.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "users_email_trgm_idx" ON "users" USING gin ("email" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "users_display_name_trgm_idx" ON "users" USING gin ("display_name" gin_trgm_ops);
