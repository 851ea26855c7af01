-- Noticeboards (电子公示栏): wall screens that rotate the notices of one
-- jurisdiction full screen.  What a board shows at a given moment is computed
-- by display.schedule from these settings, the notices and the clock.
CREATE TABLE board (
    id                INTEGER PRIMARY KEY,
    slug              TEXT NOT NULL UNIQUE
                      CHECK (length(slug) BETWEEN 1 AND 64 AND slug NOT GLOB '*[^a-z0-9-]*'
                             AND slug NOT IN ('static', 'emergency')),
    name              TEXT NOT NULL,                          -- shown in the board's header
    location          TEXT NOT NULL DEFAULT '',               -- where the screen hangs
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdiction(code),
    -- Publisher levels shown ('county', 'township', 'village'); [] = every level.
    levels            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(levels) AND json_type(levels) = 'array'),
    -- Domain ids shown; [] = every domain (and notices without one).
    domains           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(domains) AND json_type(domains) = 'array'),
    orientation       TEXT NOT NULL DEFAULT 'landscape' CHECK (orientation IN ('landscape', 'portrait')),
    slide_seconds     REAL NOT NULL DEFAULT 15 CHECK (slide_seconds > 0 AND slide_seconds <= 600),
    poll_seconds      REAL NOT NULL DEFAULT 30 CHECK (poll_seconds > 0 AND poll_seconds <= 3600),
    -- Daily windows when the board shows notices, [{"start": "HH:MM", "end": "HH:MM"}];
    -- start > end crosses midnight; [] = all day.  Outside them the screen rests.
    windows           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(windows) AND json_type(windows) = 'array'),
    fallback_title    TEXT NOT NULL DEFAULT '暂无正在公示的内容',
    fallback_text     TEXT NOT NULL DEFAULT '',
    sort              INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL DEFAULT 'published'
                      CHECK (status IN ('draft', 'submitted', 'published', 'withdrawn')),
    rev               INTEGER NOT NULL DEFAULT 1,
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX board_jurisdiction ON board(jurisdiction_code, status);
