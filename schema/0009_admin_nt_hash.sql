-- SPDX-License-Identifier: Apache-2.0
-- scep-ra schema version 9: the NT hash NTLMv2 verification needs, for
-- accounts made or re-made since this version. It is password-equivalent, so
-- it is stored sealed (AES-256-GCM under a key derived from [password]
-- hmac_key, the account name bound in): nonce (12) || ciphertext (16) || tag (16).
ALTER TABLE admins ADD COLUMN nt_hash_sealed BLOB;
