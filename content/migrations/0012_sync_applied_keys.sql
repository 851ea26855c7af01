-- Terminal: the table and the row keys of every applied bundle file, so an update decodes
-- only the new version of a changed file and compares its rows with the database (rows
-- gone = keys of the replaced files that no new file holds). NULL (files applied before
-- this step) makes the next sync a full load, as any schema change does.
ALTER TABLE sync_applied_file ADD COLUMN table_name TEXT;
ALTER TABLE sync_applied_file ADD COLUMN row_keys TEXT;   -- JSON array: key values, or arrays of them
