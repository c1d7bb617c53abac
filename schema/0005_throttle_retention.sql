-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 5: failed challenge passwords counted per client
-- address and per subject (the [throttle] lockout), and the indexes behind
-- retention ([audit] retention_days, `scep-ra audit purge`).

-- One row per client address or subject that failed a challenge check
-- recently. Rows are updated in place, pruned once stale, and capped in
-- number, so an attacker with many addresses cannot grow the table without bound.
CREATE TABLE challenge_failures (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('address', 'subject')),
    key          TEXT NOT NULL,        -- the client address, or the CSR's subject DN (capped, see README)
    failures     INTEGER NOT NULL,     -- failed challenges since window_start
    window_start TEXT NOT NULL,
    last_failure TEXT NOT NULL,
    locked_until TEXT,                 -- refused without a challenge check until then
    UNIQUE (kind, key)
);
CREATE INDEX challenge_failures_last ON challenge_failures(last_failure);

-- Retention deletes admin logins by time.
CREATE INDEX admin_logins_at ON admin_logins(at);
-- Retention keeps the one-time passwords a request refers to; this finds them.
CREATE INDEX requests_challenge ON requests(challenge_id);
