-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 8: what an admin page account may do. 'issue' gets
-- a challenge password on each visit (every account made before this version);
-- 'view' logs in but gets NDES's permission-denied page and no password, as
-- NDES answers a user outside the template's Enroll ACL.
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'issue' CHECK (role IN ('issue', 'view'));
