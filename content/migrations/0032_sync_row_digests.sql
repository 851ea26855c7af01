-- Terminal: a digest of each row's text in every applied bundle file (16 bytes a row, in the
-- order of row_keys), so an update finds the rows of a changed file it already holds without
-- decoding or comparing them (sync/row_texts.py). NULL: such rows are decoded and compared.
ALTER TABLE sync_applied_file ADD COLUMN row_digests BLOB;
