-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 13: challenge validators beyond local passwords.
-- outcome_told_at: when the enrolment's final outcome (issued, rejected) was
-- told to the outcome listeners (a webhook's notify_url, Intune's
-- notifications), so that each is told exactly once per transaction, however
-- often the device re-sends or polls. Outcomes before this version count as told.
ALTER TABLE requests ADD COLUMN outcome_told_at TEXT;
UPDATE requests SET outcome_told_at = updated_at WHERE status <> 'pending';

-- The webhook's notify_url deliveries, queued so that a receiver that is down
-- loses nothing: a row is deleted once the receiver answers 2xx. Bounded by
-- the writer (WebhookQueue): a full queue refuses new rows, never old ones.
CREATE TABLE webhook_notifications (
    id              INTEGER PRIMARY KEY,
    body            TEXT NOT NULL,            -- the JSON sent, as signed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,         -- Unix seconds
    last_error      TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX webhook_notifications_due ON webhook_notifications(next_attempt_at);
