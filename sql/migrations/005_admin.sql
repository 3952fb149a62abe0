-- 005_admin.sql - sessions of lab users on the admin pages.
-- Like the patient's sessions: only a BLAKE2b hash of the cookie is kept,
-- so a database copy yields no working session.  The user's role, lab and
-- disabled flag are read from lab_users on every request, so a disabled
-- user or a changed role takes effect at once.
CREATE TABLE admin_sessions (
  id_hash BINARY(32) NOT NULL PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  created BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  expires BIGINT NOT NULL,
  KEY admin_sessions_user (user_id),
  KEY admin_sessions_expires (expires),
  CONSTRAINT admin_sessions_user_fk FOREIGN KEY (user_id)
    REFERENCES lab_users (id) ON DELETE CASCADE
) ENGINE=InnoDB;
