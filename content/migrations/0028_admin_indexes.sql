-- Indexes behind the admin lists at county scale (100k notices, 400k audit rows).
-- Every content list is sorted newest change first and paged by key (updated_at, id):
-- one index serves the whole county, one per jurisdiction serves a township or village.
CREATE INDEX IF NOT EXISTS notice_updated ON notice(updated_at, id);
CREATE INDEX IF NOT EXISTS notice_jurisdiction_updated ON notice(jurisdiction_code, updated_at, id);
CREATE INDEX IF NOT EXISTS catalogue_item_updated ON catalogue_item(updated_at, id);
CREATE INDEX IF NOT EXISTS catalogue_item_jurisdiction_updated ON catalogue_item(jurisdiction_code, updated_at, id);
CREATE INDEX IF NOT EXISTS village_item_updated ON village_item(updated_at, id);
CREATE INDEX IF NOT EXISTS village_item_jurisdiction_updated ON village_item(jurisdiction_code, updated_at, id);
CREATE INDEX IF NOT EXISTS guide_updated ON guide(updated_at, id);
CREATE INDEX IF NOT EXISTS handbook_updated ON handbook(updated_at, id);
CREATE INDEX IF NOT EXISTS board_updated ON board(updated_at, id);
CREATE INDEX IF NOT EXISTS consultation_updated ON consultation(updated_at, id);
CREATE INDEX IF NOT EXISTS matter_updated ON matter(updated_at, id);

-- The audit log, newest first by key (at, id), filtered by user, action or object.
CREATE INDEX IF NOT EXISTS audit_log_at_id ON audit_log(at, id);
CREATE INDEX IF NOT EXISTS audit_log_username ON audit_log(username, at, id);
CREATE INDEX IF NOT EXISTS audit_log_action_at ON audit_log(action, at, id);
CREATE INDEX IF NOT EXISTS audit_log_entity_at ON audit_log(entity, entity_id, at, id);

-- Workbench queues: open revisions of the jurisdictions a user edits or reviews. Partial
-- indexes: a couple of thousand open rows among a county's 100k+ published ones, which the
-- planner's statistics (five states, evenly spread as far as it knows) cannot tell apart.
-- The queries in content/admin/workbench.py repeat these WHERE terms word for word.
CREATE INDEX IF NOT EXISTS revision_open ON revision(jurisdiction_code, created_at)
    WHERE state IN ('draft', 'returned', 'submitted');
CREATE INDEX IF NOT EXISTS revision_submitted ON revision(jurisdiction_code, submitted_at)
    WHERE state = 'submitted';

-- 领域 page: content per domain, counted from an index rather than the notice table.
CREATE INDEX IF NOT EXISTS notice_domain ON notice(domain_id);

-- 公示留痕 list: notices whose 公示期 ended lately, newest end first, paged by key.
CREATE INDEX IF NOT EXISTS notice_period_end ON notice(period_end, id);

-- 工作台 已到评估日期: published items whose review-by date has passed (few have one at all).
CREATE INDEX IF NOT EXISTS catalogue_item_review_by ON catalogue_item(review_by) WHERE review_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS village_item_review_by ON village_item(review_by) WHERE review_by IS NOT NULL;
