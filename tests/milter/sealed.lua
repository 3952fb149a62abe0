-- sealed.lua - a lab's message is rewritten into a notice: body replaced,
-- PHI-carrying headers removed, Subject/To/MIME headers and X-Sealmail-Id
-- added; the lab is found by client network and by SASL login.
dofile(os.getenv("MT_DIR") .. "/lib.lua")

local function sealed_one(conn, extra)
  local headers = {
    { "From", "lab@stack.test" },
    { "To", "Jane Patient <p@example.org>" },
    { "Cc", "other@example.org" },
    { "Subject", "Results for Jane Doe MTMARKER" },
    { "Content-Type", "text/plain" },
    { "X-Custom", "MTMARKER" },
    { "X-Sealmail-Password", "correct horse" },
  }
  for _, h in ipairs(extra or {}) do table.insert(headers, h) end
  local r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" }, headers)
  T.check(r == SMFIR_CONTINUE, "end of header refused")
  T.ok(mt.bodystring(conn, "MTMARKER body of the results\r\n"), "body")
  T.expect(conn, SMFIR_CONTINUE, "body")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(mt.eom_check(conn, MT_BODYCHANGE), "body not replaced")
  for _, h in ipairs({ "Subject", "To", "Cc", "Content-Type", "X-Custom",
                       "X-Sealmail-Password" }) do
    T.check(mt.eom_check(conn, MT_HDRDELETE, h), h .. " not deleted")
  end
  T.check(not mt.eom_check(conn, MT_HDRDELETE, "From"), "From deleted")
  T.check(mt.eom_check(conn, MT_HDRADD, "Subject"), "Subject not added")
  T.check(mt.eom_check(conn, MT_HDRADD, "X-Sealmail-Id"), "X-Sealmail-Id not added")
  T.check(mt.eom_check(conn, MT_HDRADD, "MIME-Version"), "MIME-Version not added")
  local ct = mt.getheader(conn, "Content-Type", 0)
  T.check(ct ~= nil and string.find(ct, "multipart/alternative", 1, true),
    "Content-Type is not multipart/alternative: " .. tostring(ct))
  local to = mt.getheader(conn, "To", 0)
  T.check(to ~= nil and string.find(to, "<p@example.org>", 1, true),
    "To is not the recipient: " .. tostring(to))
  local subj = mt.getheader(conn, "Subject", 0)
  T.check(subj ~= nil and not string.find(subj, "MTMARKER", 1, true),
    "Subject leaks: " .. tostring(subj))
end

T.run("client network 127.0.0.1 is sealed", function()
  local conn = T.connect("127.0.0.1")
  sealed_one(conn)
  mt.disconnect(conn)
end)

T.run("SASL login seals mail from any network", function()
  local conn = T.connect("198.51.100.7")
  T.ok(mt.macro(conn, SMFIC_MAIL, "{auth_authen}", os.getenv("SASL_USER")), "macro")
  sealed_one(conn)
  mt.disconnect(conn)
end)

T.run("two messages on one connection are both sealed", function()
  local conn = T.connect("127.0.0.1")
  sealed_one(conn)
  sealed_one(conn, { { "X-Sealmail-Expires", "2w" } })
  mt.disconnect(conn)
end)

T.run("a message without a body is sealed", function()
  local conn = T.connect("127.0.0.1")
  local r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" }, {
    { "X-Sealmail-Password", "pw" },
  })
  T.check(r == SMFIR_CONTINUE, "end of header refused")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(mt.eom_check(conn, MT_BODYCHANGE), "body not replaced")
  mt.disconnect(conn)
end)

T.run("NUL bytes and 8-bit bytes in the body are sealed", function()
  local conn = T.connect("127.0.0.1")
  local r = T.start(conn, "<lab@stack.test>", { "<p@example.org>" }, {
    { "X-Sealmail-Password", "pw" },
  })
  T.check(r == SMFIR_CONTINUE, "end of header refused")
  T.ok(mt.bodystring(conn, "a\0b\255\254\r\n"), "body")
  T.expect(conn, SMFIR_CONTINUE, "body")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(mt.eom_check(conn, MT_BODYCHANGE), "body not replaced")
  mt.disconnect(conn)
end)

T.done()
