-- 006_sms.sql - SMS notices and the patient-set PIN (issue 3).
-- Append-only, like every migration.

-- Whether a recipient with a phone number also gets the email notice.
-- A recipient addressed only by number (+4915112345678@...) can only get
-- the SMS.
ALTER TABLE labs
  ADD COLUMN sms_notice ENUM('sms','sms+email') NOT NULL DEFAULT 'sms';

-- SMS waiting for the gateway.  The milter INSERTs one row per SMS after
-- the escrow committed; sealmail-smsd claims due rows (next_attempt), hands
-- them to the gateway and marks them sent, or pushes next_attempt back with
-- a growing delay.  A row is never deleted by the sender, so nothing queued
-- is lost whatever the gateway does.  The text holds the link, so it is
-- stored sealed (XChaCha20-Poly1305, key file `sms`, the row's message id
-- and phone as associated data): a database copy yields no working link.
CREATE TABLE sms_queue (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lab_id BIGINT UNSIGNED NOT NULL,
  message_id CHAR(32) CHARACTER SET ascii NOT NULL,
  delivery_id BIGINT UNSIGNED NOT NULL,
  phone VARCHAR(16) CHARACTER SET ascii NOT NULL,
  sealed_text VARBINARY(1024) NOT NULL,
  state ENUM('queued','sent','failed') NOT NULL DEFAULT 'queued',
  attempts INT NOT NULL DEFAULT 0,
  created BIGINT NOT NULL,
  next_attempt BIGINT NOT NULL,
  sent BIGINT NULL,
  last_error VARCHAR(255) NULL,
  KEY sms_queue_due (state, next_attempt),
  KEY sms_queue_message (message_id)
) ENGINE=InnoDB;

-- One-time links and codes mailed to a patient: PIN recovery, password
-- reset, address proof at registration.  Only a hash of the secret is
-- kept; used marks it spent.
CREATE TABLE patient_tokens (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  hash BINARY(32) NOT NULL,
  purpose ENUM('pin_recovery','password_reset','address_code') NOT NULL,
  lab_id BIGINT UNSIGNED NOT NULL,
  address VARCHAR(320) NOT NULL,
  delivery_id BIGINT UNSIGNED NULL,
  created BIGINT NOT NULL,
  expires BIGINT NOT NULL,
  used BIGINT NULL,
  attempts INT NOT NULL DEFAULT 0,
  UNIQUE KEY patient_tokens_hash (hash),
  KEY patient_tokens_address (lab_id, address(64))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
