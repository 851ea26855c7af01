-- 0026: 依申请公开 through to the end — the organ that answers (受理机关) and transfers
-- between organs (转办), delivery (送达) before 归档, the letters issued (告知书/答复书, a
-- snapshot each), the signed reply document, and 行政复议 / 行政诉讼 with their results.

-- 受理机关: a government (organ_dept = '') or one of the county's departments
-- (organ_dept = the department's name, organ_code = the county).  Empty organ_code: the
-- application was made before organs were chosen; it belongs to its receiving point.
ALTER TABLE application ADD COLUMN organ_code TEXT NOT NULL DEFAULT '';
ALTER TABLE application ADD COLUMN organ_dept TEXT NOT NULL DEFAULT '';
ALTER TABLE application ADD COLUMN delivered_on TEXT;                           -- 送达日期
ALTER TABLE application ADD COLUMN delivery_method TEXT NOT NULL DEFAULT '';    -- 自行领取 / 邮寄 / 电子邮件 / 当面
ALTER TABLE application ADD COLUMN delivery_detail TEXT NOT NULL DEFAULT '';    -- tracking number or e-mail address
ALTER TABLE application ADD COLUMN delivery_signed INTEGER NOT NULL DEFAULT 0;  -- 当面: the applicant signed the receipt
CREATE INDEX application_organ ON application(organ_code, received_on);

-- Each 转办 from one organ to another (the audit log has it too, with the user).
CREATE TABLE application_transfer (
    id               INTEGER PRIMARY KEY,
    application_uuid TEXT NOT NULL REFERENCES application(uuid),
    on_date          TEXT NOT NULL,
    from_code        TEXT NOT NULL,
    from_dept        TEXT NOT NULL DEFAULT '',
    to_code          TEXT NOT NULL,
    to_dept          TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL,
    username         TEXT NOT NULL DEFAULT '',
    at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX application_transfer_app ON application_transfer(application_uuid, id);

-- Letters issued to the applicant: the HTML as printed on the day of issue (a snapshot;
-- reprints show exactly this).  Staff-only: it carries the applicant's name and address.
CREATE TABLE application_letter (
    id               INTEGER PRIMARY KEY,
    application_uuid TEXT NOT NULL REFERENCES application(uuid),
    kind             TEXT NOT NULL,            -- content.application_letters.KINDS
    letter_no        TEXT NOT NULL UNIQUE,     -- e.g. YSQ-20261126-0007-答-1
    issued_on        TEXT NOT NULL,
    html             TEXT NOT NULL,
    username         TEXT NOT NULL DEFAULT '',
    at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX application_letter_app ON application_letter(application_uuid, id);

-- The signed and stamped reply, scanned (PDF or picture; blobs in the hub's data folder,
-- never in a bundle).
CREATE TABLE application_document (
    id               INTEGER PRIMARY KEY,
    application_uuid TEXT NOT NULL REFERENCES application(uuid),
    sha256           TEXT NOT NULL,
    mime             TEXT NOT NULL,
    size             INTEGER NOT NULL,
    name             TEXT NOT NULL,
    username         TEXT NOT NULL DEFAULT '',
    at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX application_document_app ON application_document(application_uuid, id);

-- 行政复议 and 行政诉讼 about an application, with their results (the annual report's table).
CREATE TABLE application_appeal (
    id               INTEGER PRIMARY KEY,
    application_uuid TEXT NOT NULL REFERENCES application(uuid),
    kind             TEXT NOT NULL CHECK (kind IN ('行政复议', '行政诉讼')),
    after_review     INTEGER NOT NULL DEFAULT 0,   -- 行政诉讼 brought after a 行政复议
    filed_on         TEXT NOT NULL,
    body             TEXT NOT NULL DEFAULT '',     -- 复议机关 / 法院
    result           TEXT NOT NULL DEFAULT '尚未审结',
    decided_on       TEXT,
    note             TEXT NOT NULL DEFAULT '',
    username         TEXT NOT NULL DEFAULT '',
    at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX application_appeal_app ON application_appeal(application_uuid, id);
