# SPDX-License-Identifier: Apache-2.0
"""The bridge's only state: client_ref -> request_id, in SQLite.

AD CS finds a request only by the id it assigns, so the bridge records each submission
before the RPC ("submitting") and completes it after ("submitted" with the id). A call whose
answer never came is "unknown": never submitted again by itself, listed for an operator.
"""
import contextlib
import dataclasses
import sqlite3
import threading
import time

MAX_CSR_DER = 16 * 1024   # the largest CSR (DER bytes) the bridge takes; validate.py refuses larger ones

# The map keeps a request's hash and its public key (to check the certificate the CA returns), never
# the CSR itself: its challengePassword would stay readable in the file, its WAL and its backups.
SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    client_ref  TEXT PRIMARY KEY CHECK (length(client_ref) BETWEEN 1 AND 128),
    csr_sha256  TEXT NOT NULL CHECK (length(csr_sha256) = 64),
    subject_key BLOB NOT NULL CHECK (length(subject_key) <= %d),
    template    TEXT NOT NULL CHECK (length(template) <= 64),
    state       TEXT NOT NULL CHECK (state IN ('submitting', 'submitted', 'unknown')),
    request_id  INTEGER UNIQUE CHECK (request_id IS NULL OR request_id BETWEEN 1 AND 4294967295),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
""" % MAX_CSR_DER


@dataclasses.dataclass(frozen=True)
class Submission:
    client_ref: str
    csr_sha256: str
    subject_key: bytes   # the request's SubjectPublicKeyInfo, DER
    template: str
    state: str
    request_id: int
    created_at: int
    updated_at: int


class SubmissionMap:
    def __init__(self, path: str):
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")   # what is replaced is overwritten, not left in free pages
            self._db.executescript(SCHEMA)
            self._scrub_stored_csrs()

    def _scrub_stored_csrs(self) -> None:
        """A map written by an earlier bridge kept whole CSRs (column csr): each becomes its public key,
        and the write-ahead log that held them is emptied."""
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(submissions)")]
        if "csr" not in columns:
            return
        from .validate import subject_key_of   # validate imports this module
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for client_ref, csr in self._db.execute("SELECT client_ref, csr FROM submissions").fetchall():
                self._db.execute("UPDATE submissions SET csr = ? WHERE client_ref = ?", (subject_key_of(csr), client_ref))
            self._db.execute("ALTER TABLE submissions RENAME COLUMN csr TO subject_key")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def recover(self) -> int:
        """At start-up: a row still "submitting" belongs to a call cut short by a crash."""
        with self._transaction() as db:
            return db.execute("UPDATE submissions SET state = 'unknown', updated_at = ? WHERE state = 'submitting'",
                              (int(time.time()),)).rowcount

    def claim(self, client_ref: str, csr_sha256: str, subject_key: bytes, template: str):
        """Records a new submission, or returns the existing row for client_ref.
        Returns (claimed, row): claimed is True when this caller must submit."""
        now = int(time.time())
        with self._transaction() as db:
            row = self._get(db, "client_ref = ?", client_ref)
            if row is not None:
                return False, row
            db.execute("INSERT INTO submissions (client_ref, csr_sha256, subject_key, template, state, created_at,"
                       " updated_at) VALUES (?, ?, ?, ?, 'submitting', ?, ?)",
                       (client_ref, csr_sha256, subject_key, template, now, now))
            return True, self._get(db, "client_ref = ?", client_ref)

    def complete(self, client_ref: str, request_id: int) -> None:
        self._set(client_ref, "submitted", request_id)

    def mark_unknown(self, client_ref: str) -> None:
        self._set(client_ref, "unknown", None)

    def forget(self, client_ref: str) -> None:
        """The CA never took the request (not sent, or answered without an id)."""
        with self._transaction() as db:
            db.execute("DELETE FROM submissions WHERE client_ref = ?", (client_ref,))

    def retire(self, client_ref: str, request_id: int) -> bool:
        """Keeps a decided submission under "#<request id>" (unique, as request ids are, and never a
        client_ref: '#' is outside their alphabet), freeing client_ref for a new one. False when the
        row no longer holds that request."""
        with self._transaction() as db:
            return db.execute("UPDATE submissions SET client_ref = ?, updated_at = ? WHERE client_ref = ? "
                              "AND request_id = ? AND state = 'submitted'",
                              ("#%d" % request_id, int(time.time()), client_ref, request_id)).rowcount == 1

    def by_request_id(self, request_id: int):
        with self._transaction() as db:
            return self._get(db, "request_id = ?", request_id)

    def by_client_ref(self, client_ref: str):
        with self._transaction() as db:
            return self._get(db, "client_ref = ?", client_ref)

    def unknown(self) -> list:
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM submissions WHERE state = 'unknown' ORDER BY created_at").fetchall()
        return [Submission(*r) for r in rows]

    def resolve(self, client_ref: str, request_id: int) -> None:
        """An operator found the request at the CA: the row now follows that request."""
        with self._transaction() as db:
            row = self._get(db, "client_ref = ?", client_ref)
            if row is None or row.state != "unknown":
                raise LookupError("no request with an unknown outcome has client_ref %r" % client_ref)
            other = self._get(db, "request_id = ?", request_id)
            if other is not None:
                raise LookupError("request id %d already belongs to client_ref %r" % (request_id, other.client_ref))
            db.execute("UPDATE submissions SET state = 'submitted', request_id = ?, updated_at = ? WHERE client_ref = ?",
                       (request_id, int(time.time()), client_ref))

    def resolve_not_submitted(self, client_ref: str) -> None:
        """An operator found that the CA never got it: the next POST submits again."""
        with self._transaction() as db:
            row = self._get(db, "client_ref = ?", client_ref)
            if row is None or row.state != "unknown":
                raise LookupError("no request with an unknown outcome has client_ref %r" % client_ref)
            db.execute("DELETE FROM submissions WHERE client_ref = ?", (client_ref,))

    def _set(self, client_ref: str, state: str, request_id) -> None:
        with self._transaction() as db:
            db.execute("UPDATE submissions SET state = ?, request_id = ?, updated_at = ? WHERE client_ref = ?",
                       (state, request_id, int(time.time()), client_ref))

    @staticmethod
    def _get(db, where: str, value):
        row = db.execute("SELECT * FROM submissions WHERE " + where, (value,)).fetchone()
        return Submission(*row) if row else None
