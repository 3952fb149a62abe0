-- 001_schema.sql - the escrow schema.
-- Append-only: a landed migration is never edited; a new file follows.
-- Times are Unix seconds (BIGINT) so they enter signatures unambiguously.

CREATE TABLE labs (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) CHARACTER SET ascii NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  notice_subject VARCHAR(200) NOT NULL DEFAULT 'You have a secure message',
  template_set VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT 'default',
  contact VARCHAR(500) NOT NULL DEFAULT '',
  logo_url VARCHAR(500) NOT NULL DEFAULT '',
  colour VARCHAR(7) CHARACTER SET ascii NOT NULL DEFAULT '#1f5f8b',
  default_expiry_days INT NOT NULL DEFAULT 30,
  -- what to do when neither headers nor the recipients table say how a
  -- recipient verifies: refuse the message, or let the patient register
  default_verification ENUM('require','registered') NOT NULL DEFAULT 'require',
  created BIGINT NOT NULL,
  UNIQUE KEY labs_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which mail belongs to a lab: SASL logins, client networks (CIDR),
-- sender addresses, sender domains.
CREATE TABLE lab_senders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lab_id BIGINT UNSIGNED NOT NULL,
  kind ENUM('sasl','network','address','domain') NOT NULL,
  value VARCHAR(320) NOT NULL,
  UNIQUE KEY lab_senders_kind_value (kind, value),
  KEY lab_senders_lab (lab_id),
  CONSTRAINT lab_senders_lab_fk FOREIGN KEY (lab_id) REFERENCES labs (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE recipients (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lab_id BIGINT UNSIGNED NOT NULL,
  address VARCHAR(320) NOT NULL,
  kind ENUM('question','password','registered','pin') NOT NULL,
  question VARCHAR(500) NULL,
  answer_hash VARCHAR(255) CHARACTER SET ascii NULL,
  recovery_email VARCHAR(320) NULL,
  created BIGINT NOT NULL,
  updated BIGINT NOT NULL,
  UNIQUE KEY recipients_lab_address (lab_id, address),
  CONSTRAINT recipients_lab_fk FOREIGN KEY (lab_id) REFERENCES labs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One sealed message.  The milter only INSERTs (it has no UPDATE right):
-- the row is written once at end-of-message, in the same transaction as
-- its chunks, which is why message_chunks carries no foreign key.
CREATE TABLE messages (
  id CHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  lab_id BIGINT UNSIGNED NOT NULL,
  sender VARCHAR(320) NOT NULL,
  reference VARCHAR(200) NULL,
  created BIGINT NOT NULL,
  expires BIGINT NOT NULL,
  retracted BIGINT NULL,
  size BIGINT UNSIGNED NOT NULL,
  chunk_size INT UNSIGNED NOT NULL,
  nchunks INT UNSIGNED NOT NULL,
  key_version INT NOT NULL,
  sealed_key VARBINARY(128) NULL,   -- NULL once purged (crypto-shredded)
  signature BINARY(64) NOT NULL,
  purged BIGINT NULL,
  KEY messages_lab_created (lab_id, created),
  KEY messages_lab_reference (lab_id, reference),
  KEY messages_expires (expires),
  CONSTRAINT messages_lab_fk FOREIGN KEY (lab_id) REFERENCES labs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE message_chunks (
  message_id CHAR(32) CHARACTER SET ascii NOT NULL,
  idx INT UNSIGNED NOT NULL,
  tag BINARY(16) NOT NULL,
  data LONGBLOB NOT NULL,
  PRIMARY KEY (message_id, idx)
) ENGINE=InnoDB;

CREATE TABLE deliveries (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  message_id CHAR(32) CHARACTER SET ascii NOT NULL,
  address VARCHAR(320) NOT NULL,
  token_hash BINARY(32) NOT NULL,
  kind ENUM('question','password','registered','pin') NOT NULL,
  question VARCHAR(500) NULL,
  answer_hash VARCHAR(255) CHARACTER SET ascii NULL,
  recipient_id BIGINT UNSIGNED NULL,
  failed_attempts INT NOT NULL DEFAULT 0,
  locked_until BIGINT NULL,
  first_opened BIGINT NULL,
  retracted BIGINT NULL,
  UNIQUE KEY deliveries_token (token_hash),
  KEY deliveries_message (message_id),
  KEY deliveries_address (address(64))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
  id_hash BINARY(32) NOT NULL PRIMARY KEY,
  delivery_id BIGINT UNSIGNED NOT NULL,
  created BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  expires BIGINT NOT NULL,
  csrf_hash BINARY(32) NULL,
  KEY sessions_delivery (delivery_id),
  KEY sessions_expires (expires)
) ENGINE=InnoDB;

CREATE TABLE events (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,                     -- microseconds since the epoch
  kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
  lab_id BIGINT UNSIGNED NOT NULL,
  message_id CHAR(32) CHARACTER SET ascii NULL,
  delivery_id BIGINT UNSIGNED NULL,
  client_addr VARCHAR(64) CHARACTER SET ascii NULL,
  user_agent VARCHAR(255) NULL,
  detail VARCHAR(255) NULL,
  KEY events_message (message_id, id),
  KEY events_delivery (delivery_id),
  KEY events_lab_at (lab_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
