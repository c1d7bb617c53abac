-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 1. Times are UTC text 'YYYY-MM-DD HH:MM:SS', the
-- format of SQLite's datetime(), so they compare with datetime('now', ...).

-- One row per decision the RA takes on a SCEP PKIOperation.
CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,           -- when the decision was taken
    peer           TEXT NOT NULL,           -- client address as the RA saw it
    operation      TEXT NOT NULL,           -- HTTP-level operation, e.g. PKIOperation
    message_type   TEXT,                    -- PKCSReq, RenewalReq, CertPoll, ...; NULL if unparseable
    transaction_id TEXT,                    -- SCEP transactionID as sent by the client
    subject        TEXT,                    -- subject DN of the CSR (RFC 2253)
    decision       TEXT NOT NULL            -- issued | pending | rejected | error
                   CHECK (decision IN ('issued', 'pending', 'rejected', 'error')),
    fail_info      TEXT,                    -- badAlg | badMessageCheck | badRequest | badTime | badCertId
    detail         TEXT,                    -- human reason (the failInfoText); never a secret
    serial         TEXT,                    -- serial (hex) of the issued certificate
    challenge_id   INTEGER REFERENCES challenges(id)  -- the one-time password that authorised it
);
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_transaction ON audit_events(transaction_id);
-- Purging challenges checks for referencing events; without this each check scans the table.
CREATE INDEX audit_events_challenge ON audit_events(challenge_id);

-- One-time challenge passwords. Only a keyed hash is stored, never the password.
CREATE TABLE challenges (
    id                  INTEGER PRIMARY KEY,
    hash                BLOB NOT NULL UNIQUE,  -- HMAC-SHA256(instance key, password)
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    issued_by           TEXT NOT NULL,         -- 'cli' or the admin account
    issued_from         TEXT,                  -- address of the admin, NULL for the CLI
    used_at             TEXT,
    used_by_transaction TEXT,
    revoked_at          TEXT
);
-- Counting outstanding passwords and purging expired ones must not scan used ones.
CREATE INDEX challenges_outstanding ON challenges(expires_at) WHERE used_at IS NULL AND revoked_at IS NULL;

-- Certificates issued by the local CA backend.
CREATE TABLE issued_certs (
    id                INTEGER PRIMARY KEY,
    issuer            TEXT NOT NULL,       -- issuer DN (RFC 2253)
    serial            TEXT NOT NULL,       -- hex
    subject           TEXT NOT NULL,
    not_before        TEXT NOT NULL,
    not_after         TEXT NOT NULL,
    transaction_id    TEXT,
    template          TEXT,
    issued_at         TEXT NOT NULL,
    revoked_at        TEXT,
    revocation_reason TEXT,
    der               BLOB NOT NULL,
    UNIQUE (issuer, serial)
);
CREATE INDEX issued_certs_subject ON issued_certs(subject);
CREATE INDEX issued_certs_transaction ON issued_certs(transaction_id);
