-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 2: password modes, bound one-time passwords, the
-- password lifecycle trail, admin accounts, and views for common questions.

-- Optional binding of a one-time password, chosen when it is issued. A request
-- that does not match fails with badRequest and leaves the password unused.
ALTER TABLE challenges ADD COLUMN expected_subject TEXT;  -- glob on the CN or a DNS/email SAN, e.g. 'router-*.example.com'
ALTER TABLE challenges ADD COLUMN template TEXT;          -- the certificate template the request must select

-- Every step in the life of a challenge password. Rows stay when the
-- password row itself is purged, so challenge_id is not a foreign key.
CREATE TABLE password_events (
    id             INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    challenge_id   INTEGER,               -- NULL for the single password
    event          TEXT NOT NULL
                   CHECK (event IN ('issued', 'used', 'expired', 'revoked', 'single-set')),
    actor          TEXT,                  -- admin account or 'cli' (issued, revoked, single-set)
    peer           TEXT,                  -- address of the admin (issued over HTTP)
    transaction_id TEXT                   -- the enrolment that used it (used)
);
CREATE INDEX password_events_challenge ON password_events(challenge_id);
CREATE INDEX password_events_at ON password_events(at);

-- The single reusable password (UseSinglePassword = 1): one row, slow salted hash.
CREATE TABLE single_password (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    hash       TEXT NOT NULL,             -- '$scrypt$N$r$p$salt-hex$hash-hex'
    set_at     TEXT NOT NULL,
    set_by     TEXT NOT NULL
);

-- Accounts allowed on the admin page (/certsrv/mscep_admin/).
CREATE TABLE admins (
    name       TEXT PRIMARY KEY,
    hash       TEXT NOT NULL,             -- '$scrypt$N$r$p$salt-hex$hash-hex'
    created_at TEXT NOT NULL
);

-- Every login attempt on the admin page; failures feed the throttle.
CREATE TABLE admin_logins (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    peer    TEXT NOT NULL,
    name    TEXT,                         -- as presented; may not exist
    success INTEGER NOT NULL CHECK (success IN (0, 1))
);
CREATE INDEX admin_logins_peer ON admin_logins(peer, at);

-- Enrolment decisions per day.
CREATE VIEW enrolments_per_day AS
SELECT date(at) AS day,
       sum(decision = 'issued')   AS issued,
       sum(decision = 'pending')  AS pending,
       sum(decision = 'rejected') AS rejected,
       sum(decision = 'error')    AS errors
  FROM audit_events
 WHERE message_type IN ('PKCSReq', 'RenewalReq')
 GROUP BY date(at);

-- Refusals grouped by failInfo and reason.
CREATE VIEW failures_by_reason AS
SELECT fail_info, detail AS reason, count(*) AS requests, min(at) AS first_seen, max(at) AS last_seen
  FROM audit_events
 WHERE decision IN ('rejected', 'error')
 GROUP BY fail_info, detail;

-- For every certificate issued on a one-time password: who issued the password, from where, when.
CREATE VIEW certificate_password_origin AS
SELECT a.serial, a.subject, a.transaction_id, a.at AS enrolled_at,
       c.id AS challenge_id, c.issued_by, c.issued_from, c.created_at AS password_issued_at
  FROM audit_events a
  JOIN challenges c ON c.id = a.challenge_id
 WHERE a.decision = 'issued';
