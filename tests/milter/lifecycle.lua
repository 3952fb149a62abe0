-- lifecycle.lua - the paths miltertest can reach without an MTA: abort in
-- the middle of a sealed message, a connection that only connects, a
-- disconnect mid-message.  The milter must keep serving afterwards (a
-- crash or a leaked pool connection would show in the last check).
dofile(os.getenv("MT_DIR") .. "/lib.lua")

local function seal_ok(conn)
  local r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" },
    { { "X-Sealmail-Password", "a" } })
  T.check(r == SMFIR_CONTINUE, "end of header refused")
  T.ok(mt.bodystring(conn, "body\r\n"), "body")
  T.expect(conn, SMFIR_CONTINUE, "body")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(mt.eom_check(conn, MT_BODYCHANGE), "body not replaced")
end

T.run("abort in the middle of a sealed message, then seal another", function()
  local conn = T.connect("127.0.0.1")
  local r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" },
    { { "X-Sealmail-Password", "a" } })
  T.check(r == SMFIR_CONTINUE, "end of header refused")
  T.ok(mt.bodystring(conn, "half a body\r\n"), "body")
  T.expect(conn, SMFIR_CONTINUE, "body")
  T.ok(mt.abort(conn), "abort")
  seal_ok(conn)
  mt.disconnect(conn)
end)

T.run("connect and disconnect only", function()
  local conn = T.connect("127.0.0.1")
  mt.disconnect(conn)
end)

T.run("abrupt disconnect in the middle of a message", function()
  for i = 1, 20 do
    local conn = T.connect("127.0.0.1")
    local r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" },
      { { "X-Sealmail-Password", "a" } })
    T.check(r == SMFIR_CONTINUE, "end of header refused")
    T.ok(mt.bodystring(conn, "body\r\n"), "body")
    mt.disconnect(conn, false)
  end
end)

T.run("the milter still seals after all of that", function()
  local conn = T.connect("127.0.0.1")
  seal_ok(conn)
  mt.disconnect(conn)
end)

T.done()
