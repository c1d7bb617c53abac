-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 10: the RA keeps the CSR of a request it holds or that
-- waits at the CA, so that it can submit it again (after an outage or an
-- approval) and hand it to a CA that asks for it when polled. The CSR carries
-- the challenge password under its signature: it is stored sealed
-- (crypto::CsrSeal, private/csr-seal.key) and deleted at the final outcome.
ALTER TABLE requests ADD COLUMN csr_sealed BLOB;
