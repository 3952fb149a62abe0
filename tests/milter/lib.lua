-- lib.lua - shared helpers for the miltertest scripts (dofile'd by each).
-- The scripts talk to the milter the stack already runs (MILTER_SOCKET),
-- with the stack's lab: clients from 127.0.0.0/8 and the SASL login in
-- SASL_USER are sealed, a client from 192.0.2.0/24 with a sender outside
-- every lab is not.  Each check runs under pcall, because an uncaught Lua
-- error makes miltertest exit 1 without a word.

T = { failed = 0, n = 0 }

local function reply_name(r)
  local names = {
    [SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept",
    [SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
    [SMFIR_REPLYCODE] = "replycode", [SMFIR_DISCARD] = "discard",
  }
  if r == nil then return "nil" end
  return names[r] or ("'" .. string.char(r) .. "'")
end

function T.expect(conn, want, what)
  local got = mt.getreply(conn)
  if got ~= want then
    error(what .. ": got " .. reply_name(got) .. ", want " .. reply_name(want), 2)
  end
end

function T.ok(r, what)
  if r ~= nil then error(what .. ": " .. tostring(r), 2) end
end

function T.check(cond, what)
  if not cond then error(what, 2) end
end

-- T.connect(ip): a new connection to the running milter from ip.
function T.connect(ip)
  local sock = os.getenv("MILTER_SOCKET")
  if sock == nil then error("MILTER_SOCKET is not set") end
  local conn = mt.connect("unix:" .. sock, 20, 0.25)
  if conn == nil then error("cannot connect to " .. sock) end
  T.ok(mt.conninfo(conn, "client.example", ip), "conninfo")
  T.expect(conn, SMFIR_CONTINUE, "connect")
  return conn
end

-- T.message(conn, from, rcpts, headers, body): one transaction up to and
-- including end-of-header; returns the reply to end-of-header.
function T.start(conn, from, rcpts, headers)
  T.ok(mt.mailfrom(conn, from), "mailfrom")
  T.expect(conn, SMFIR_CONTINUE, "mail from")
  for _, r in ipairs(rcpts) do
    T.ok(mt.rcptto(conn, r), "rcptto")
    T.expect(conn, SMFIR_CONTINUE, "rcpt to " .. r)
  end
  for _, h in ipairs(headers) do
    T.ok(mt.header(conn, h[1], h[2]), "header " .. h[1])
  end
  T.ok(mt.eoh(conn), "eoh")
  return mt.getreply(conn)
end

-- Runs one named check; prints a TAP-like line for the runner's log.
function T.run(name, fn)
  T.n = T.n + 1
  local ok, err = pcall(fn)
  if ok then
    mt.echo("ok " .. T.n .. " - " .. name)
  else
    T.failed = T.failed + 1
    mt.echo("not ok " .. T.n .. " - " .. name)
    mt.echo("# " .. tostring(err))
  end
end

function T.done()
  mt.echo("1.." .. T.n)
  if T.failed > 0 then os.exit(1) end
end

return T
