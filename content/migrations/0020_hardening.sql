-- Staff sessions held on the server: the signed cookie names a row here, and ending the row
-- (logout, a password change, a disabled account, "sign out everywhere") ends the session
-- even for a copy of the cookie.  Only a digest of the session id is stored.
CREATE TABLE staff_session (
    id          TEXT PRIMARY KEY,                 -- sha256 hex of the cookie's random session id
    user_id     INTEGER NOT NULL REFERENCES user(id),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    remote      TEXT NOT NULL DEFAULT '',
    ended_at    TEXT,
    ended_why   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_session_user ON staff_session(user_id, ended_at);

-- Failed sign-ins per (account, address): each failure doubles the wait before the next
-- attempt from that address is even checked; a success or a quiet day clears it.
CREATE TABLE login_backoff (
    account     TEXT NOT NULL,
    address     TEXT NOT NULL,
    failures    INTEGER NOT NULL,
    last_failed REAL NOT NULL,                    -- Unix seconds
    PRIMARY KEY (account, address)
);

-- Terminal: once the hub holds an application, only its receipt number, stage and dates stay
-- here, and the status lookup's phone check as a digest (content.retention).
ALTER TABLE application ADD COLUMN lookup_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE application ADD COLUMN scrubbed_at TEXT;

-- A new password or a disabled account ends the account's sessions, whichever code path
-- (the CLI, the admin, a script) made the change.
CREATE TRIGGER staff_session_end_on_password AFTER UPDATE OF password_hash ON user
WHEN NEW.password_hash IS NOT OLD.password_hash BEGIN
    UPDATE staff_session SET ended_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ended_why = 'password'
    WHERE user_id = NEW.id AND ended_at IS NULL;
END;
CREATE TRIGGER staff_session_end_on_disable AFTER UPDATE OF active ON user
WHEN NEW.active = 0 BEGIN
    UPDATE staff_session SET ended_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ended_why = 'disabled'
    WHERE user_id = NEW.id AND ended_at IS NULL;
END;
