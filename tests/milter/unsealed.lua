-- unsealed.lua - mail that belongs to no lab passes untouched, except that
-- every X-Sealmail-* header is removed (each occurrence, by its index).
dofile(os.getenv("MT_DIR") .. "/lib.lua")

T.run("unsealed mail passes with its body, X-Sealmail-* removed", function()
  local conn = T.connect("192.0.2.1")
  local r = T.start(conn, "<someone@elsewhere.example>", { "<p@example.org>" }, {
    { "From", "someone@elsewhere.example" },
    { "To", "p@example.org" },
    { "Subject", "hello" },
    { "X-Sealmail-Password", "pw" },
    { "x-sealmail-reference", "R1" },
    { "X-Sealmail-Reference", "R2" },
  })
  T.check(r == SMFIR_CONTINUE, "end of header not continued")
  T.ok(mt.bodystring(conn, "UNSEALED-BODY\r\n"), "body")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(not mt.eom_check(conn, MT_BODYCHANGE), "body was changed")
  T.check(mt.eom_check(conn, MT_HDRDELETE, "X-Sealmail-Password"), "X-Sealmail-Password kept")
  T.check(mt.eom_check(conn, MT_HDRDELETE, "x-sealmail-reference"), "X-Sealmail-Reference kept")
  T.check(not mt.eom_check(conn, MT_HDRDELETE, "Subject"), "Subject deleted")
  T.check(not mt.eom_check(conn, MT_HDRADD), "a header was added")
  mt.disconnect(conn)
end)

T.run("unsealed mail without X-Sealmail headers is not touched", function()
  local conn = T.connect("192.0.2.1")
  local r = T.start(conn, "<someone@elsewhere.example>", { "<p@example.org>" }, {
    { "Subject", "plain" },
  })
  T.check(r == SMFIR_CONTINUE, "end of header not continued")
  T.ok(mt.bodystring(conn, "body\r\n"), "body")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(not mt.eom_check(conn, MT_HDRDELETE), "a header was deleted")
  T.check(not mt.eom_check(conn, MT_BODYCHANGE), "body was changed")
  mt.disconnect(conn)
end)

T.run("a junk X-Sealmail header on unsealed mail is stripped, not refused", function()
  local conn = T.connect("192.0.2.1")
  local r = T.start(conn, "<someone@elsewhere.example>", { "<p@example.org>" }, {
    { "X-Sealmail-Nonsense", "<script>'; DROP TABLE labs; --" },
  })
  T.check(r == SMFIR_CONTINUE, "end of header not continued")
  T.ok(mt.eom(conn), "eom")
  T.expect(conn, SMFIR_CONTINUE, "eom")
  T.check(mt.eom_check(conn, MT_HDRDELETE, "X-Sealmail-Nonsense"), "junk header kept")
  mt.disconnect(conn)
end)

T.done()
