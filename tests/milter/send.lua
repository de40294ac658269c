-- send.lua - one message through arc-milter, as an MTA would send it.
--
-- Run by tests/milter/run.sh:
--   miltertest -vv -D SOCK=unix:/path -D MSG=file [-D OUT=file]
--       [-D IP=addr] [-D FOLD=lf|crlf] [-D LEADSPC=no] [-D QID=id]
--       [-D COUNT=n] [-D ABORT=1] [-D REPLY="550 5.7.29 text"]
--       [-D PAUSE=path] -s send.lua
--
-- Contract:
--  - Connects (retrying for 2 s), sends connect info (client IP, default
--    192.0.2.7), HELO, MAIL (macro i = QID), RCPT, the header fields of
--    MSG one by one, EOH, the body, EOM; COUNT (default 1) messages on
--    the one connection.  PAUSE: after the first message's EOH, creates
--    PAUSE.on and waits (up to 20 s) until PAUSE.go exists, so that the
--    shell can act (reload the milter) while that message is in flight.
--    Folded fields go with their line breaks as LF
--    or CRLF (FOLD), as different MTAs send them.  LEADSPC=no negotiates
--    without SMFIP_HDR_LEADSPC (values lose the space after the colon,
--    like Postfix and Sendmail without that option); by default
--    miltertest offers it and arc-milter takes it.  ABORT=1 first
--    starts a message and aborts it after one header field.
--  - Prints, per message, lines the shell checks:
--      reply <c>                  the EOM reply (a accept, y reply code,
--                                 t tempfail, r reject)
--      ins <Name> <at0> <len>     a field inserted, whether at index 0,
--                                 and its length in the protocol packet
--                                 (so the shell can check the insertion
--                                 order against miltertest -vv output)
--      smtpreply <bool>           with -D REPLY="550 5.7.29 text"
--      value <Name> <value>       the inserted value, one line
--  - OUT: the message as the MTA would deliver it: inserted fields on
--    top (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results,
--    Authentication-Results, those present; run.sh checks separately
--    that the milter really inserted them to end up so), then MSG, CRLF
--    line ends.
--  - miltertest's buffers are 1 KiB: each header field of MSG and each
--    inserted field must stay below that (RSA-2048 keys do).

local names = { "ARC-Seal", "ARC-Message-Signature",
    "ARC-Authentication-Results", "Authentication-Results" }

local function readfile(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	return s
end

-- MSG as header fields {name, value, raw} and body (CRLF)
local function parse(text)
	text = text:gsub("\r\n", "\n")
	local head, body = text:match("^(.-)\n\n(.*)$")
	if head == nil then
		head, body = text, ""
	end
	local fields = {}
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #fields > 0 then
			local f = fields[#fields]
			f.cont[#f.cont + 1] = line
			f.raw = f.raw .. "\r\n" .. line
		else
			local n, v = line:match("^([^:]+):[ \t]*(.*)$")
			if n == nil then error("bad header line: " .. line) end
			fields[#fields + 1] = { name = n, first = v, cont = {},
			    raw = line }
		end
	end
	return fields, (body:gsub("\n", "\r\n"))
end

local sock = SOCK or error("-D SOCK= missing")
local fields, body = parse(readfile(MSG or error("-D MSG= missing")))
local sep = (FOLD == "lf") and "\n" or "\r\n"
local leadspc = LEADSPC ~= "no"

local conn = mt.connect(sock, 40, 0.05)
if conn == nil then error("cannot connect to " .. sock) end
if not leadspc then
	-- every protocol option miltertest offers but SMFIP_HDR_LEADSPC;
	-- the arguments are (conn, version, options, actions), whatever
	-- miltertest(8) says
	assert(mt.negotiate(conn, nil, 0x000FFFFF, nil) == nil)
end
assert(mt.conninfo(conn, "client.example", IP or "192.0.2.7") == nil)
assert(mt.helo(conn, "client.example") == nil)

if ABORT then
	assert(mt.mailfrom(conn, "<alice@origin.example>") == nil)
	assert(mt.rcptto(conn, "<bob@test.example>") == nil)
	assert(mt.header(conn, "From", "aborted@origin.example") == nil)
	assert(mt.abort(conn) == nil)
end

for m = 1, tonumber(COUNT or "1") do
	mt.macro(conn, SMFIC_MAIL, "i", (QID or "QID") .. m)
	assert(mt.mailfrom(conn, "<alice@origin.example>") == nil)
	assert(mt.rcptto(conn, "<bob@test.example>") == nil)
	for _, f in ipairs(fields) do
		local v = f.first
		for _, c in ipairs(f.cont) do v = v .. sep .. c end
		assert(mt.header(conn, f.name, v) == nil)
	end
	assert(mt.eoh(conn) == nil)
	if PAUSE and m == 1 then
		assert(io.open(PAUSE .. ".on", "w")):close()
		for _ = 1, 400 do
			local g = io.open(PAUSE .. ".go", "r")
			if g then g:close() break end
			mt.sleep(0.05)
		end
	end
	if #body > 0 then assert(mt.bodystring(conn, body) == nil) end
	assert(mt.eom(conn) == nil)
	print("reply " .. string.char(math.floor(mt.getreply(conn))))
	if REPLY then
		local code, x, txt = REPLY:match("^(%d+) ([%d.]+) (.*)$")
		print("smtpreply " .. tostring(mt.eom_check(conn,
		    MT_SMTPREPLY, code, x, txt)))
	end

	local out = {}
	for _, n in ipairs(names) do
		local v = mt.getheader(conn, n, 0)
		if v ~= nil then
			print(string.format("ins %s %s %d", n,
			    tostring(mt.eom_check(conn, MT_HDRINSERT, n, v, 0)),
			    4 + #n + 1 + #v + 1))
			print("value " .. n .. " " .. v:gsub("\n", " "))
			-- with LEADSPC the value carries its own space
			local f = n .. ":" .. (leadspc and "" or " ") .. v
			out[#out + 1] = f:gsub("\r?\n", "\r\n")
		end
	end
	if OUT and m == 1 then
		for _, f in ipairs(fields) do out[#out + 1] = f.raw end
		local o = assert(io.open(OUT, "wb"))
		o:write(table.concat(out, "\r\n") .. "\r\n\r\n" .. body)
		o:close()
	end
end
mt.disconnect(conn)
