-- Indexes found missing by the county-scale benchmarks (docs/benchmarks.md).

-- Search: a narrow covering index over what the scope and date filters read. A search
-- limited to one village's view checks every FTS5 candidate against it; reading these
-- ~40-byte entries instead of the wide search_meta rows makes that check cheaper
-- (content/search.py names it in INDEXED BY).
CREATE INDEX search_meta_scope ON search_meta(id, code, day);

-- The notices of one catalogue item or village item (their pages list them, live and
-- past). Without these, SQLite walked every live notice of the visible area, or for past
-- notices nearly the whole table: 25 ms and 380 ms for one cold item page at county scale,
-- about 1 ms with them.
CREATE INDEX notice_item ON notice(item_id);
CREATE INDEX notice_village_item ON notice(village_item_id);
