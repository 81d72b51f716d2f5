-- The practice pages read a student's answers by (user_id, answered_at) and need only question_id
-- and correct: carrying them in the index lets a year of answers be read without the table. Built
-- under a new name first, so reads keep an index until the swap (writes to answers wait ~1 s per
-- million rows).
CREATE INDEX "answers_user_id_answered_at_cover_idx" ON "answers" ("user_id", "answered_at") INCLUDE ("question_id", "correct");--> statement-breakpoint
DROP INDEX "answers_user_id_answered_at_idx";--> statement-breakpoint
ALTER INDEX "answers_user_id_answered_at_cover_idx" RENAME TO "answers_user_id_answered_at_idx";
