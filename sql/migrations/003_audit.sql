-- 003_audit.sql - a tamper-evident audit trail.
-- Two layers, so the milter's hot path never waits on a global lock:
--  * mac: at INSERT each program computes a keyed BLAKE2b MAC (key file
--    `audit` in keys.dir) over the row's own content (event.c).  Inserts
--    stay independent; a row changed later without the key is caught.
--  * seq, chain_hash: `sealmailctl audit seal` (run by the purge timer)
--    walks the rows not yet chained in id order, gives each the next dense
--    sequence number and chain_hash = BLAKE2b-keyed(prev chain || mac ||
--    id || seq).  After sealing, a deleted row leaves a hole in seq, a
--    moved row breaks seq order, and either breaks the chain.
-- audit_seals records each seal run (its head, MAC'd), so cutting off the
-- newest sealed rows is caught unless the seal record goes too; the head
-- is also logged, so it can be kept outside the database and checked with
-- `audit verify --anchor`.
ALTER TABLE events
  ADD COLUMN mac BINARY(32) NULL,
  ADD COLUMN seq BIGINT UNSIGNED NULL,
  ADD COLUMN chain_hash BINARY(32) NULL,
  ADD UNIQUE KEY events_seq (seq);

CREATE TABLE audit_seals (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,
  first_seq BIGINT UNSIGNED NOT NULL,
  last_seq BIGINT UNSIGNED NOT NULL,
  last_event_id BIGINT UNSIGNED NOT NULL,
  head BINARY(32) NOT NULL,
  mac BINARY(32) NOT NULL
) ENGINE=InnoDB;
