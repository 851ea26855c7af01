-- Indexes found missing by the county-scale benchmarks (docs/benchmarks.md).

-- Search: a narrow covering index over what the scope and date filters read. A search
-- limited to one village's view checks every FTS5 candidate against it; reading these
-- ~40-byte entries instead of the wide search_meta rows makes that check cheaper
-- (content/search.py names it in INDEXED BY).
CREATE INDEX search_meta_scope ON search_meta(id, code, day);
