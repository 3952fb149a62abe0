-- 004_lab_users.sql - who may use the admin pages and the API.
-- Passwords are Argon2id strings over the peppered pre-hash (answer.c).
-- The TOTP secret is never stored plain: it is sealed with
-- XChaCha20-Poly1305 under a key derived from the pepper (totp.c), the
-- user's id bound as associated data, so a database copy alone yields no
-- second factor and a secret copied onto another user does not open.
CREATE TABLE lab_users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lab_id BIGINT UNSIGNED NOT NULL,
  login VARCHAR(64) CHARACTER SET ascii NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii NOT NULL,
  totp_sealed VARBINARY(128) NULL,
  role ENUM('viewer','sender-admin') NOT NULL,
  failed_attempts INT NOT NULL DEFAULT 0,
  locked_until BIGINT NULL,
  -- last TOTP time step accepted, so one code is never accepted twice
  totp_last_step BIGINT NOT NULL DEFAULT 0,
  disabled BIGINT NULL,
  created BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  UNIQUE KEY lab_users_login (login),
  KEY lab_users_lab (lab_id),
  CONSTRAINT lab_users_lab_fk FOREIGN KEY (lab_id) REFERENCES labs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- API keys: "smk_<prefix>_<secret>".  Only BLAKE2b of the whole key is
-- kept (the secret has 256 bits, so a slow hash adds nothing); the prefix
-- finds the row and is what an operator sees and revokes.
CREATE TABLE api_keys (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lab_id BIGINT UNSIGNED NOT NULL,
  prefix CHAR(12) CHARACTER SET ascii NOT NULL,
  hash BINARY(32) NOT NULL,
  label VARCHAR(100) NULL,
  created BIGINT NOT NULL,
  last_used BIGINT NULL,
  revoked BIGINT NULL,
  UNIQUE KEY api_keys_prefix (prefix),
  KEY api_keys_lab (lab_id),
  CONSTRAINT api_keys_lab_fk FOREIGN KEY (lab_id) REFERENCES labs (id)
) ENGINE=InnoDB;
