-- 0007: assessment dashboard.
--
-- Aligning every matter × village of a county asks, for each level, for the
-- newest notice one publisher made for one matter (content.notices.for_matter).
-- With only (matter_id, status) indexed that scans every notice of the matter
-- in the county; with the publisher in the index it reads a handful of rows
-- (county of 300 villages, 10 matters: 20 s → 5 s for the whole dashboard).
CREATE INDEX notice_matter_publisher ON notice(matter_id, jurisdiction_code, status);
