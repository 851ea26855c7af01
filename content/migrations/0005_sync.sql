-- County sync (see sync/): the terminal's outbox and applied bundle, the hub's
-- published scopes, enrolment tokens, enrolled terminals and received records.

-- Terminal: records made here, waiting to travel upstream. A row is written in
-- the same transaction as the record itself (content.outbox.enqueue) and is
-- marked sent only once the hub has answered that it holds the record.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     TEXT,
    rejected    TEXT                           -- the hub's reason when it refused the record
);
CREATE INDEX outbox_pending ON outbox(sent_at, rejected, id);

-- Terminal: the logical files of the bundle currently applied (name → blob).
CREATE TABLE sync_applied_file (
    name    TEXT PRIMARY KEY,
    sha256  TEXT NOT NULL CHECK (length(sha256) = 64),
    length  INTEGER NOT NULL
);

-- Hub: the newest signed manifest per scope; versions only go up.
CREATE TABLE sync_scope (
    scope       TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    files_hash  TEXT NOT NULL,                 -- sha256 of the canonical files map
    created     TEXT NOT NULL,
    expires     TEXT NOT NULL
);

-- Hub: raw JSON hash → stored blob hash, so unchanged content keeps its blob.
CREATE TABLE sync_blob_map (
    raw_sha256  TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    length      INTEGER NOT NULL
);

-- Hub: one-time enrolment tokens (only their hash is kept).
CREATE TABLE sync_enrolment (
    token_hash   TEXT PRIMARY KEY,
    scope        TEXT NOT NULL REFERENCES jurisdiction(code),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    terminal_id  TEXT
);

-- Hub: enrolled terminals and what they last reported.
CREATE TABLE sync_terminal (
    id              TEXT PRIMARY KEY CHECK (length(id) = 64),   -- hex sha256 of its public key
    public_key      TEXT NOT NULL,                               -- raw 32 bytes, base64
    scope           TEXT NOT NULL REFERENCES jurisdiction(code),
    enrolled_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    active          INTEGER NOT NULL DEFAULT 1,
    last_contact    TEXT,
    remote_addr     TEXT NOT NULL DEFAULT '',
    applied_version INTEGER,
    app_version     TEXT NOT NULL DEFAULT '',
    free_disk       INTEGER,
    interval        INTEGER NOT NULL DEFAULT 300,
    last_sync       TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    outbox_pending  INTEGER
);
CREATE INDEX sync_terminal_scope ON sync_terminal(scope);

-- Hub: request nonces seen recently (replay protection).
CREATE TABLE sync_nonce (
    terminal_id TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    ts          INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
);
CREATE INDEX sync_nonce_ts ON sync_nonce(ts);

-- Hub: every upstream record received, stored once by its UUID, raw payload kept.
CREATE TABLE sync_inbox (
    uuid         TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    terminal_id  TEXT NOT NULL,
    scope        TEXT NOT NULL,
    payload      TEXT NOT NULL CHECK (json_valid(payload)),
    received_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    stored_in    TEXT NOT NULL DEFAULT '',     -- table the record was filed into, if any
    note         TEXT NOT NULL DEFAULT ''      -- why it could not be filed (kept for staff)
);
CREATE INDEX sync_inbox_kind ON sync_inbox(kind, received_at);
