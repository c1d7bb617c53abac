#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# grow-database.sh DB [AUDIT_ROWS] [CERTS] [OUTSTANDING_PASSWORDS]
# Fills a scep-ra database with synthetic history for the growth benchmark of
# issue 5: 1,000,000 audit rows, 100,000 issued certificates and 10,000
# outstanding one-time passwords by default. Rows look like real ones (random
# serials, transaction ids and password hashes, 1 KiB certificate blobs) so
# that indexes have the same shape; nothing here can enrol a device.
set -euo pipefail
DB=${1:?usage: $0 DB [AUDIT_ROWS] [CERTS] [OUTSTANDING_PASSWORDS]}
AUDIT=${2:-1000000}
CERTS=${3:-100000}
PASSWORDS=${4:-10000}
ISSUER=$(sqlite3 "$DB" "SELECT issuer FROM issued_certs LIMIT 1")
[ -n "$ISSUER" ] || ISSUER="CN=scep-ra Local CA,O=scep-ra"
sqlite3 "$DB" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $AUDIT)
INSERT INTO audit_events (at, peer, operation, message_type, transaction_id, subject, decision, fail_info, detail, serial)
SELECT datetime('now', '-' || (i % 365) || ' days'), '127.0.0.' || (i % 250 + 1), 'PKIOperation', 'PKCSReq',
       'grow-' || hex(randomblob(8)), 'CN=grown-' || i || ',O=Growth',
       CASE WHEN i % 10 = 0 THEN 'rejected' ELSE 'issued' END,
       CASE WHEN i % 10 = 0 THEN 'badRequest' END,
       CASE WHEN i % 10 = 0 THEN 'the challenge password is not valid' END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE hex(randomblob(16)) END
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CERTS)
INSERT INTO issued_certs (issuer, serial, subject, not_before, not_after, transaction_id, template, issued_at, der)
SELECT '$ISSUER', hex(randomblob(16)), 'CN=grown-' || i || ',O=Growth', datetime('now', '-1 day'),
       datetime('now', '+364 days'), 'grow-' || hex(randomblob(8)), 'IPSECIntermediateOffline',
       datetime('now', '-1 day'), randomblob(1024)
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $PASSWORDS)
INSERT INTO challenges (hash, created_at, expires_at, issued_by)
SELECT randomblob(32), datetime('now'), datetime('now', '+30 days'), 'grow' FROM n;
COMMIT;
PRAGMA optimize;
SQL
sqlite3 "$DB" "SELECT (SELECT count(*) FROM audit_events) || ' audit rows, ' || (SELECT count(*) FROM issued_certs) ||
  ' certificates, ' || (SELECT count(*) FROM challenges WHERE used_at IS NULL) || ' unused passwords'"
