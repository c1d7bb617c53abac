# SPDX-License-Identifier: Apache-2.0
"""The bridge's operations, independent of HTTP: submit, status, CA chain, health."""
import hashlib
import sqlite3
import time

from cryptography.hazmat.primitives import serialization

from . import adcs, outcome
from .outcome import Reply
from .rpc import CaUnreachable, OutcomeUnknown
from .validate import Submit


class Bridge:
    def __init__(self, ca, submissions, chain, templates, log):
        self.ca = ca                      # IcprClient or DcomClient
        self.submissions = submissions    # store.SubmissionMap
        self.chain_der = [c.public_bytes(serialization.Encoding.DER) for c in chain]
        self.templates = frozenset(templates)
        self.log = log

    def submit(self, req: Submit, client: str, may_replace: bool = True) -> Reply:
        claimed, row = self.submissions.claim(req.client_ref, req.csr_sha256, req.subject_key, req.template)
        if not claimed:
            if may_replace and row.state == "submitted" and (row.csr_sha256 != req.csr_sha256
                                                             or row.template != req.template):
                replaced = self._replace_decided(req, row, client)
                if replaced is not None:
                    return replaced
            return self._repeat(req, row, client)
        started = time.monotonic()
        try:
            answer = self.ca.submit(req.csr_der, req.template)
        except CaUnreachable as e:
            self.submissions.forget(req.client_ref)
            reply = outcome.error(str(e))
            self._log("submit", client, req, reply, started, note="not sent")
            return reply
        except Exception as e:   # OutcomeUnknown, or anything unexpected once the call may have gone out
            self.submissions.mark_unknown(req.client_ref)
            reply = outcome.unknown(req.client_ref)
            self._log("submit", client, req, reply, started, note=str(e) if isinstance(e, OutcomeUnknown) else repr(e))
            return reply
        if answer.request_id:
            try:
                self.submissions.complete(req.client_ref, answer.request_id)
            except Exception as e:   # the CA has the request but the map cannot say so: never a 500
                return self._not_recorded(req, client, answer, started, e)
        elif answer.return_code == adcs.S_OK and not adcs.is_failure_hresult(answer.disposition):
            # A call that succeeded without naming its request: no real CA answers so, and the
            # request may exist. Unknown, for an operator, never submitted again by itself.
            self.submissions.mark_unknown(req.client_ref)
            reply = outcome.unknown(req.client_ref, "the CA answered disposition %d without a request id; an "
                                    "operator must resolve this request" % answer.disposition)
            self._log("submit", client, req, reply, started, note="no request id")
            return reply
        else:
            self.submissions.forget(req.client_ref)   # the CA created no request
        reply = outcome.classify(answer, answer.request_id, req.subject_key, self.chain_der, 201, is_retrieval=False)
        if reply is None:
            reply = self._settle_out_of_band(answer.request_id, req.subject_key, 201, answer.message)
        self._log("submit", client, req, reply, started)
        return reply

    def status(self, request_id: int, client: str) -> Reply:
        row = self.submissions.by_request_id(request_id)
        started = time.monotonic()
        if row is None:
            reply = self._unmapped(request_id)
        else:
            reply = self._current(row.request_id, row.subject_key)
        self._log("status", client, None, reply, started, request_id=request_id,
                  client_ref=row.client_ref if row else None)
        return reply

    def chain(self) -> Reply:
        return Reply(200, {"chain": [outcome.b64(c) for c in self.chain_der]})

    def health(self) -> Reply:
        try:
            self.ca.ping()
        except (CaUnreachable, OutcomeUnknown) as e:
            return outcome.error(str(e))
        return Reply(200, {"status": "ok"})

    def _replace_decided(self, req: Submit, row, client: str):
        """Another CSR or template under the client_ref of a request the CA has decided (issued or
        denied): scep-ra sends that only for a new transaction under a transactionID used before
        (clients that derive it from the key enrol again this way). The decided request is kept
        under "#<request id>" and this one is submitted. None when the request is still open at
        the CA (the caller answers 409, as before); a 503 when the CA cannot be asked."""
        try:
            answer = self.ca.retrieve(row.request_id)
        except (CaUnreachable, OutcomeUnknown) as e:
            return outcome.error(str(e))
        current = outcome.classify(answer, row.request_id, row.subject_key, self.chain_der, 200, is_retrieval=True)
        if current is not None and current.status == 503:
            return current   # the CA would not say: retry, never a new submission
        if current is None or current.body.get("status") not in ("issued", "denied"):
            return None
        if not self.submissions.retire(row.client_ref, row.request_id):
            # Another call replaced it first: this request is judged against the row that call
            # made (a repeat of it, or 503 while it is being submitted), never the retired one.
            return self.submit(req, client, may_replace=False)
        return self.submit(req, client, may_replace=False)

    def _repeat(self, req: Submit, row, client: str) -> Reply:
        started = time.monotonic()
        if row.csr_sha256 != req.csr_sha256 or row.template != req.template:
            reply = Reply(409, {"status": "error", "message": "client_ref %s was used with another CSR or template"
                                % req.client_ref})
        elif row.state == "unknown":
            reply = outcome.unknown(req.client_ref)
        elif row.state == "submitting":
            reply = outcome.error("client_ref %s is being submitted right now; retry" % req.client_ref)
        else:
            reply = self._current(row.request_id, row.subject_key)
        self._log("repeat", client, req, reply, started)
        return reply

    def _not_recorded(self, req: Submit, client: str, answer, started, e: Exception) -> Reply:
        """The CA answered with a request id the map could not record (IntegrityError: the id is
        already mapped, a CA whose ids restarted; OperationalError: database locked, disk full).
        The id goes to the log and the answer, so an operator can resolve it; the row is made
        unknown if the map lets us (else it is still "submitting", which recover() makes unknown)."""
        try:
            self.submissions.mark_unknown(req.client_ref)
        except Exception:
            pass
        if isinstance(e, sqlite3.IntegrityError):
            why = "request id %d already mapped" % answer.request_id
        else:
            why = "the map could not record request id %d: %s: %s" % (answer.request_id, type(e).__name__,
                                                                     str(e)[:200])
        reply = outcome.unknown(req.client_ref, "the CA answered request id %d (disposition %d) but the bridge "
                                "could not record it; an operator must resolve this request"
                                % (answer.request_id, answer.disposition))
        self._log("submit", client, req, reply, started, note=why, request_id=answer.request_id,
                  disposition=answer.disposition)
        return reply

    def _unmapped(self, request_id: int) -> Reply:
        """An id not in the map. 404 is final for scep-ra, so only the CA's own "not found" gives it;
        a request the CA has may be one this bridge submitted before its map was lost or replaced,
        which an officer may still issue: 503, which scep-ra takes as "retry" (the request stays
        pending). Nothing of the CA's request is handed out without the map's row."""
        try:
            answer = self.ca.retrieve(request_id)
        except (CaUnreachable, OutcomeUnknown) as e:
            return outcome.error(str(e))
        if outcome.is_not_found(answer):
            return outcome.not_found(request_id)
        return outcome.error("request %d is not in this bridge's map (state file lost or replaced?) though the CA "
                             "has it; look it up at the CA" % request_id)

    def _current(self, request_id: int, subject_key: bytes) -> Reply:
        try:
            answer = self.ca.retrieve(request_id)
        except (CaUnreachable, OutcomeUnknown) as e:   # a retrieval changes nothing: retry it
            return outcome.error(str(e))
        reply = outcome.classify(answer, request_id, subject_key, self.chain_der, 200, is_retrieval=True)
        if reply is None:
            reply = outcome.pending(request_id, answer.disposition, answer.message)
        return reply

    def _settle_out_of_band(self, request_id: int, subject_key: bytes, issued_status: int, message: str) -> Reply:
        """Disposition 4 without the certificate: issued if a retrieval gives it, else pending."""
        reply = self._current(request_id, subject_key)
        if reply.body.get("status") == "issued":
            return outcome.Reply(issued_status, reply.body)
        if reply.body.get("status") == "pending" or reply.status == 503:
            return outcome.pending(request_id, 4, message)
        return reply

    def _log(self, event, client, req, reply: Reply, started, note=None, request_id=None, client_ref=None,
             disposition=None):
        body = reply.body
        self.log.write(event, client=client, client_ref=req.client_ref if req else client_ref,
                       template=req.template if req else None,
                       csr_sha256=hashlib.sha256(req.csr_der).hexdigest() if req else None,
                       request_id=body.get("request_id", request_id), http=reply.status, status=body.get("status"),
                       disposition=body.get("disposition", disposition), hresult=body.get("hresult"),
                       message=body.get("message"), note=note,
                       ms=int((time.monotonic() - started) * 1000))
