-- 0030: a scanned reply's page pictures (made when it was uploaded, content.uploads) are
-- recorded with it, so retention can delete every file that shows the applicant's name and
-- address, not only the original.
ALTER TABLE application_document ADD COLUMN pictures TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(pictures));
