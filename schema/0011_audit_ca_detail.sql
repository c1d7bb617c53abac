-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 11: the CA's own words about a request (EJBCA's
-- error_message, AD CS's request id, disposition message and HRESULT) kept
-- beside the RA's decision, for operators only: they are never sent to the
-- device, which gets a short text that leaks nothing of the CA.
ALTER TABLE audit_events ADD COLUMN ca_detail TEXT;
