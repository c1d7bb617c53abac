-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 3: the local CA's manual approval queue, its CRL
-- state, and the indexes behind revocation and subject look-ups. Times as in
-- 0001: UTC text 'YYYY-MM-DD HH:MM:SS'.

-- Requests under a certificate template with manual approval, waiting for a
-- CA officer. The row id is the backend_ref the RA polls with.
CREATE TABLE local_ca_requests (
    id             INTEGER PRIMARY KEY,
    transaction_id TEXT,                    -- SCEP transactionID as sent by the client
    template       TEXT NOT NULL,           -- certificate template (profile) name; '' = default
    subject        TEXT NOT NULL,           -- subject DN of the CSR (RFC 2253), for the officer
    csr_der        BLOB NOT NULL,           -- the PKCS#10 exactly as received
    requester      TEXT,                    -- client address
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'approved', 'denied', 'issued')),
    reason         TEXT,                    -- the officer's reason for a denial
    created_at     TEXT NOT NULL,
    decided_at     TEXT,
    decided_by     TEXT,                    -- the officer who approved or denied
    cert_id        INTEGER REFERENCES issued_certs(id),  -- set once issued, exactly once
    cert_serial    TEXT                     -- hex serial of that certificate, for operators
);
-- `request list --pending` must not scan decided requests.
CREATE INDEX local_ca_requests_status ON local_ca_requests(status);
CREATE INDEX local_ca_requests_transaction ON local_ca_requests(transaction_id);

-- The current full CRL of each local CA (by issuer DN). crl_number only grows;
-- stale is set by a revocation in any process so the next reader re-signs.
CREATE TABLE local_ca_crls (
    issuer      TEXT PRIMARY KEY,
    crl_number  INTEGER NOT NULL,
    this_update TEXT NOT NULL,
    next_update TEXT NOT NULL,
    stale       INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),
    der         BLOB NOT NULL
);

-- "Does this subject already hold a valid certificate?" without scanning revoked ones.
CREATE INDEX local_ca_valid_by_subject ON issued_certs(subject, not_after) WHERE revoked_at IS NULL;
-- Building a CRL reads only revoked, unexpired certificates.
CREATE INDEX local_ca_revoked ON issued_certs(issuer, not_after) WHERE revoked_at IS NOT NULL;
