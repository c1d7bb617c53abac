-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 6: what a resumed claim is checked against, and no
-- manual-approval CSR kept in the clear once it has been decided.

-- SHA-256 of the claimed CSR's CertificationRequestInfo (the signed part, so
-- a re-signed ECDSA CSR matches): a resumed claim must carry the same request.
-- NULL for claims made before version 6.
ALTER TABLE requests ADD COLUMN csr_info_hash BLOB;
-- SHA-256 of the DER certificate that signed the request: a CertPoll for a
-- renewal must be signed by that certificate, not one with the same serial.
ALTER TABLE requests ADD COLUMN signer_hash BLOB;

-- The CSR of a manual-approval request is kept (sealed, see
-- backends/local/csr_seal.hpp) only until the officer's decision is carried
-- out; decided requests of older versions lose theirs now.
UPDATE local_ca_requests SET csr_der = x'' WHERE status IN ('issued', 'denied');
