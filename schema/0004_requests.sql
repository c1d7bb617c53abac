-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 4: the RA's own record of every authenticated
-- enrolment, so that a re-sent request gets the stored outcome (never a
-- second certificate), pending requests survive restarts, and CertPoll finds
-- its transaction.
CREATE TABLE requests (
    id             INTEGER PRIMARY KEY,
    transaction_id TEXT NOT NULL,
    kind           TEXT NOT NULL,     -- 'PKCSReq', or 'Renewal:<serial of the signing certificate>'
    key_hash       BLOB NOT NULL,     -- SHA-256 of the CSR's SubjectPublicKeyInfo
    subject        TEXT NOT NULL,
    template       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'issued', 'rejected')),
    backend        TEXT NOT NULL,
    backend_ref    TEXT,              -- the CA's request id while pending
    cert_der       BLOB,              -- the issued certificate
    chain_der      BLOB,              -- its CA chain as a degenerate PKCS#7
    fail_info      TEXT,              -- when rejected
    fail_text      TEXT,
    challenge_id   INTEGER,
    requester      TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (transaction_id, kind)
);
CREATE INDEX requests_pending ON requests(status) WHERE status = 'pending';
