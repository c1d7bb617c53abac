-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 7: the serial number of the certificate a request
-- was issued, so that a renewal signed by that certificate finds the row and
-- keeps its template. Rows issued before this version have none: a renewal
-- of such a certificate takes the template from the certificate's keyUsage.
ALTER TABLE requests ADD COLUMN serial TEXT;  -- uppercase hex (crypto::serial_hex), set when issued
CREATE INDEX requests_serial ON requests(serial) WHERE serial IS NOT NULL;
