-- Notifications: a queue on the hub that reaches people who are not signed in.
--
-- notify_channel  where messages go: an e-mail address or a group robot (企业微信, 钉钉, 飞书),
--                 for one person (user_id) or for everything within a jurisdiction (a township's
--                 group chat), for all events or a chosen few, at once or as a daily digest.
-- notification    one event, stored once by its key (the same overdue application is one
--                 notification per day, not one per look).
-- notify_delivery one notification to one channel: retried with growing delays until sent;
--                 never lost when the mail server or the robot is down.
CREATE TABLE notify_channel (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('email', 'wecom', 'dingtalk', 'feishu')),
    target            TEXT NOT NULL,                 -- e-mail address or webhook URL
    secret            TEXT NOT NULL DEFAULT '',      -- 钉钉/飞书 signing secret, if the robot has one
    label             TEXT NOT NULL DEFAULT '',
    user_id           INTEGER REFERENCES user(id),   -- a person's own channel
    jurisdiction_code TEXT REFERENCES jurisdiction(code),   -- or a jurisdiction's (and below)
    events            TEXT NOT NULL DEFAULT '*',     -- '*' or event names separated by spaces
    digest            INTEGER NOT NULL DEFAULT 0 CHECK (digest IN (0, 1)),
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_by        INTEGER REFERENCES user(id),
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    CHECK ((user_id IS NULL) <> (jurisdiction_code IS NULL))
);
CREATE INDEX notify_channel_user ON notify_channel(user_id);
CREATE INDEX notify_channel_jurisdiction ON notify_channel(jurisdiction_code);

CREATE TABLE notification (
    id                INTEGER PRIMARY KEY,
    event             TEXT NOT NULL,
    dedupe_key        TEXT NOT NULL UNIQUE,
    jurisdiction_code TEXT REFERENCES jurisdiction(code),
    recipients        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(recipients)),  -- user ids
    title             TEXT NOT NULL,
    body              TEXT NOT NULL DEFAULT '',
    link              TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX notification_created ON notification(created_at);

CREATE TABLE notify_delivery (
    id               INTEGER PRIMARY KEY,
    notification_id  INTEGER NOT NULL REFERENCES notification(id),
    channel_id       INTEGER NOT NULL REFERENCES notify_channel(id),
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'digest', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_error       TEXT NOT NULL DEFAULT '',
    sent_at          TEXT,
    UNIQUE (notification_id, channel_id)
);
CREATE INDEX notify_delivery_due ON notify_delivery(status, next_attempt_at);
