-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 12: which run of the server made (or last took over)
-- a request's claim (store::this_run()), so that a claim left by a server
-- that has since died is resumed at the device's next attempt instead of after
-- the interrupted-claim age. NULL for claims made before this version.
ALTER TABLE requests ADD COLUMN run_id TEXT;
