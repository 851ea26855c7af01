-- Daily roll-ups of usage for the part-months of an assessment period.
--
-- The monthly roll-ups (0027) answer whole months; the days before and after them were read
-- from usage_attribution, six joins per counted row: a period starting on 2 March read a
-- month of raw rows (~100,000 at county scale) that way, 0.4 s for the usage figures and as
-- much for the terminals'. These tables keep the same sums per day, attributed once, so a
-- part-month is a range scan of its own rows (content/assessment_usage.py).

CREATE TABLE usage_day (                        -- views of a jurisdiction's content per day
    code      TEXT NOT NULL,
    day       TEXT NOT NULL,                    -- YYYY-MM-DD
    domain    TEXT NOT NULL,
    views     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (code, day, domain)
) WITHOUT ROWID;

CREATE TABLE usage_terminal_domain_day (        -- views a terminal served per day and domain
    terminal  TEXT NOT NULL,
    day       TEXT NOT NULL,
    domain    TEXT NOT NULL,
    views     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal, day, domain)
) WITHOUT ROWID;

INSERT INTO usage_day(code, day, domain, views)
SELECT code, day, domain, sum(views) FROM usage_attribution GROUP BY 1, 2, 3;
INSERT INTO usage_terminal_domain_day(terminal, day, domain, views)
SELECT terminal, day, domain, sum(views) FROM usage_attribution GROUP BY 1, 2, 3;

DROP TRIGGER usage_rollup_insert;
DROP TRIGGER usage_rollup_update;

CREATE TRIGGER usage_rollup_insert AFTER INSERT ON usage_view
WHEN (SELECT value FROM assessment_state WHERE name = 'usage_rollup_paused') = 0
BEGIN
    INSERT INTO usage_month(code, month, domain, views)
    SELECT a.code, substr(a.day, 1, 7), a.domain, a.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(code, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_month(terminal, month, domain, views)
    SELECT a.terminal, substr(a.day, 1, 7), a.domain, a.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(terminal, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_day(code, day, domain, views)
    SELECT a.code, a.day, a.domain, a.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(code, day, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_domain_day(terminal, day, domain, views)
    SELECT a.terminal, a.day, a.domain, a.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(terminal, day, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_day(terminal, day, views) VALUES (NEW.terminal, NEW.day, NEW.views)
    ON CONFLICT(terminal, day) DO UPDATE SET views = views + excluded.views;
END;

CREATE TRIGGER usage_rollup_update AFTER UPDATE OF views ON usage_view
WHEN (SELECT value FROM assessment_state WHERE name = 'usage_rollup_paused') = 0
BEGIN
    INSERT INTO usage_month(code, month, domain, views)
    SELECT a.code, substr(a.day, 1, 7), a.domain, NEW.views - OLD.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(code, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_month(terminal, month, domain, views)
    SELECT a.terminal, substr(a.day, 1, 7), a.domain, NEW.views - OLD.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(terminal, month, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_day(code, day, domain, views)
    SELECT a.code, a.day, a.domain, NEW.views - OLD.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(code, day, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_domain_day(terminal, day, domain, views)
    SELECT a.terminal, a.day, a.domain, NEW.views - OLD.views FROM usage_attribution a
    WHERE a.day = NEW.day AND a.terminal = NEW.terminal AND a.kind = NEW.kind AND a.ref_id = NEW.ref_id
    ON CONFLICT(terminal, day, domain) DO UPDATE SET views = views + excluded.views;
    INSERT INTO usage_terminal_day(terminal, day, views) VALUES (NEW.terminal, NEW.day, NEW.views - OLD.views)
    ON CONFLICT(terminal, day) DO UPDATE SET views = views + excluded.views;
END;
