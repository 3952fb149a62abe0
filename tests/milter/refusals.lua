-- refusals.lua - a lab's message the milter cannot seal as asked is
-- refused at end of header with a 5xx, never passed and never guessed.
dofile(os.getenv("MT_DIR") .. "/lib.lua")

local function refused(name, headers, rcpts)
  T.run(name, function()
    local conn = T.connect("127.0.0.1")
    local r = T.start(conn, "<lab@stack.test>", rcpts or { "<p@example.org>" }, headers)
    T.check(r == SMFIR_REPLYCODE or r == SMFIR_REJECT,
      "not refused at end of header (reply " .. tostring(r) .. ")")
    mt.disconnect(conn)
  end)
end

refused("duplicate X-Sealmail-Answer is refused", {
  { "X-Sealmail-Question", "Date of birth?" },
  { "X-Sealmail-Answer", "1970-01-01" },
  { "X-Sealmail-Answer", "1970-01-02" },
})
refused("duplicate X-Sealmail-Password is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Password", "b" },
})
refused("password together with question is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Question", "q?" },
  { "X-Sealmail-Answer", "b" },
})
refused("question without answer is refused", {
  { "X-Sealmail-Question", "q?" },
})
refused("expiry 0d is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Expires", "0d" },
})
refused("expiry 11y is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Expires", "11y" },
})
refused("expiry 'tomorrow' is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Expires", "tomorrow" },
})
refused("unknown X-Sealmail header is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Expire", "7d" },
})
refused("reference with HTML is accepted only as printable ASCII; 8-bit refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Reference", "r\195\169f" },
})
refused("bad phone is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Phone", "12345" },
})
refused("template traversal is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Template", "../x" },
})
refused("unknown template variant is refused", {
  { "X-Sealmail-Password", "a" }, { "X-Sealmail-Template", "nosuchvariant" },
})
refused("no way to verify the recipient is refused", {
  { "Subject", "no verification headers" },
})
refused("invalid UTF-8 answer is refused", {
  { "X-Sealmail-Question", "q?" }, { "X-Sealmail-Answer", "\255\254" },
})

T.run("refusal reply names the recipient", function()
  local conn = T.connect("127.0.0.1")
  local r = T.start(conn, "<lab@stack.test>", { "<nobody-known@example.org>" },
    { { "Subject", "x" } })
  T.check(r == SMFIR_REPLYCODE, "not refused")
  mt.disconnect(conn)
end)

T.run("after a refusal the next message on the connection is sealed", function()
  local conn = T.connect("127.0.0.1")
  local r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" },
    { { "X-Sealmail-Expires", "0d" }, { "X-Sealmail-Password", "a" } })
  T.check(r == SMFIR_REPLYCODE, "not refused")
  r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" },
    { { "X-Sealmail-Password", "a" } })
  T.check(r == SMFIR_CONTINUE, "second message refused")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(mt.eom_check(conn, MT_BODYCHANGE), "body not replaced")
  mt.disconnect(conn)
end)

T.done()
