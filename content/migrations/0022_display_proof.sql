-- 公示留痕: what the boards actually showed, hour by hour (UTC hours, 'YYYY-MM-DDTHH').
--
-- display_shown   on a terminal: seconds each notice was on each of its boards, and how many
--                 of them with the page visible; ``sent_*`` is what already went upstream, so
--                 a late report of an hour goes up as the difference, once.
-- display_report  on the hub (and a standalone instance): the same from every terminal
--                 ('local' for boards it serves itself), one row per notice, board and day.
CREATE TABLE display_shown (
    board_slug   TEXT NOT NULL,
    notice_id    INTEGER NOT NULL,
    hour         TEXT NOT NULL CHECK (hour GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]'),
    shown        INTEGER NOT NULL DEFAULT 0 CHECK (shown BETWEEN 0 AND 3600),
    visible      INTEGER NOT NULL DEFAULT 0 CHECK (visible BETWEEN 0 AND 3600),
    sent_shown   INTEGER NOT NULL DEFAULT 0,
    sent_visible INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (board_slug, notice_id, hour)
);

-- One row per board, notice and UTC day: a bitmask of the UTC hours in which the notice was on
-- screen with the page visible, and the day's seconds (a year of 400 boards showing ~20
-- notices a day is ~3 million rows, not the ~70 million one row per hour would take).
CREATE TABLE display_report (
    terminal_id  TEXT NOT NULL,
    board_slug   TEXT NOT NULL,
    notice_id    INTEGER NOT NULL,
    day          TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    hours        INTEGER NOT NULL DEFAULT 0 CHECK (hours BETWEEN 0 AND 16777215),   -- bit h: UTC hour h
    shown        INTEGER NOT NULL DEFAULT 0 CHECK (shown BETWEEN 0 AND 86400),
    visible      INTEGER NOT NULL DEFAULT 0 CHECK (visible BETWEEN 0 AND 86400),
    PRIMARY KEY (terminal_id, board_slug, notice_id, day)
);
CREATE INDEX display_report_notice ON display_report(notice_id, board_slug, day);
CREATE INDEX display_report_board ON display_report(board_slug, day);
