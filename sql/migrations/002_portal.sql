-- 002_portal.sql - what the portal keeps beyond the escrow.
-- Append-only, like every migration.

-- Verification attempts per client address, shared by every portal worker
-- and host: a fixed window per (scope, client).  client is the packed
-- IPv4 address or the /64 of an IPv6 one, so a host cannot dodge the limit
-- by walking its own prefix.  Stale rows are reset on their next hit and
-- deleted now and then by the portal.
CREATE TABLE rate_limits (
  scope VARCHAR(16) CHARACTER SET ascii NOT NULL,
  client VARBINARY(16) NOT NULL,
  window_start BIGINT NOT NULL,
  hits INT UNSIGNED NOT NULL,
  PRIMARY KEY (scope, client),
  KEY rate_limits_window (window_start)
) ENGINE=InnoDB;

-- Every fetch of a pickup page, and whether it was most likely a machine:
-- mail scanners fetch links at delivery and later but never verify, so a
-- fetch that no verification attempt from the same client address for
-- that delivery followed is flagged.  hint is what the portal could tell
-- at once ('automated=likely': no Accept-Language or a scanner's agent).
CREATE VIEW link_fetches AS
  SELECT e.id, e.at, e.lab_id, e.message_id, e.delivery_id, e.client_addr,
    e.user_agent, e.detail AS hint,
    NOT EXISTS (
      SELECT 1 FROM events v
      WHERE v.delivery_id = e.delivery_id AND v.client_addr <=> e.client_addr
        AND v.kind IN ('verify_failed', 'verified') AND v.at >= e.at)
      AS likely_automated
  FROM events e
  WHERE e.kind = 'link_fetched';
