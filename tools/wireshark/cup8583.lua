-- cup8583: Wireshark dissector for the China UnionPay POS dialect of ISO 8583, as xspos speaks it
-- (docs/iso8583.md, docs/wireshark.md): 2-byte big-endian length, 5-byte TPDU, 6-byte header, BCD MTI,
-- binary bitmap, the CUP field table, F55 as BER-TLV and the sub-fields of F48/F53/F54/F60/F61/F62.
--
-- Install: copy this file into Wireshark's personal plugins folder (Help > About Wireshark > Folders,
-- "Personal Lua Plugins", e.g. ~/.local/lib/wireshark/plugins/) or run
-- `tshark -X lua_script:tools/wireshark/cup8583.lua -r capture.pcap`.
--
-- A frame that does not decode is flagged (expert info cup8583.malformed, the same words as
-- `tools/xspos decode`: "field 2 at byte 10: lengthOverMaximum (20 > 19)") and never raises a Lua error:
-- every read is bounds-checked on a Lua string of the frame's bytes, and the whole dissection runs under
-- pcall as a last guard. The field table must agree with modules/iso8583/dialect.ts (CUP); the test
-- tests/node/wireshark/dissector.test.ts compares them and decodes every builder message with tshark.

local proto = Proto("cup8583", "China UnionPay ISO 8583")

-- Field number -> { kind, length type, length (fixed or maximum; digits for n/z, bytes otherwise),
-- pad side of an odd BCD count ("left" = pad nibble last, "right" = pad nibble first), name }.
local FIELDS = {
  [2] = { "n", "LL", 19, "left", "Primary account number" },
  [3] = { "n", "fixed", 6, "right", "Processing code" },
  [4] = { "n", "fixed", 12, "right", "Amount, transaction" },
  [11] = { "n", "fixed", 6, "right", "System trace audit number" },
  [12] = { "n", "fixed", 6, "right", "Local transaction time" },
  [13] = { "n", "fixed", 4, "right", "Local transaction date" },
  [14] = { "n", "fixed", 4, "right", "Expiration date" },
  [15] = { "n", "fixed", 4, "right", "Settlement date" },
  [22] = { "n", "fixed", 3, "left", "POS entry mode" },
  [23] = { "n", "fixed", 3, "right", "Card sequence number" },
  [25] = { "n", "fixed", 2, "right", "POS condition code" },
  [26] = { "n", "fixed", 2, "right", "POS PIN capture code" },
  [32] = { "n", "LL", 11, "left", "Acquiring institution identification" },
  [35] = { "z", "LL", 37, "left", "Track 2 data" },
  [36] = { "z", "LLL", 104, "left", "Track 3 data" },
  [37] = { "an", "fixed", 12, "right", "Retrieval reference number" },
  [38] = { "an", "fixed", 6, "right", "Authorization identification response" },
  [39] = { "an", "fixed", 2, "right", "Response code" },
  [41] = { "ans", "fixed", 8, "right", "Card acceptor terminal identification" },
  [42] = { "ans", "fixed", 15, "right", "Card acceptor identification code" },
  [44] = { "ans", "LL", 25, "right", "Additional response data" },
  [48] = { "n", "LLL", 322, "left", "Additional data, private" },
  [49] = { "an", "fixed", 3, "right", "Currency code, transaction" },
  [52] = { "b", "fixed", 8, "right", "PIN data" },
  [53] = { "n", "fixed", 16, "right", "Security related control information" },
  [54] = { "an", "LLL", 120, "right", "Additional amounts" },
  [55] = { "b", "LLL", 255, "right", "ICC system related data" },
  [59] = { "ans", "LLL", 600, "right", "Reserved (custom)" },
  [60] = { "n", "LLL", 17, "left", "Reserved private (type, batch, network management)" },
  [61] = { "n", "LLL", 29, "left", "Original message" },
  [62] = { "b", "LLL", 512, "right", "Reserved private (keys, terminal information)" },
  [63] = { "ans", "LLL", 163, "right", "Reserved private (operator, card organisation)" },
  [64] = { "b", "fixed", 8, "right", "Message authentication code" },
}

local MTI_NAMES = {
  ["0200"] = "Financial request",
  ["0210"] = "Financial response",
  ["0220"] = "Refund (advice) request",
  ["0230"] = "Refund (advice) response",
  ["0320"] = "Batch upload",
  ["0330"] = "Batch upload response",
  ["0400"] = "Reversal request",
  ["0410"] = "Reversal response",
  ["0500"] = "Settlement request",
  ["0510"] = "Settlement response",
  ["0800"] = "Sign-on request",
  ["0810"] = "Sign-on response",
  ["0820"] = "Network management request",
  ["0830"] = "Network management response",
}

-- EMV tags seen in F55 (EMV Book 3 Annex A, CUP QPBOC additions).
local TAG_NAMES = {
  ["4F"] = "Application Identifier (AID)",
  ["50"] = "Application Label",
  ["57"] = "Track 2 Equivalent Data",
  ["5A"] = "Application PAN",
  ["5F20"] = "Cardholder Name",
  ["5F24"] = "Application Expiration Date",
  ["5F2A"] = "Transaction Currency Code",
  ["5F34"] = "PAN Sequence Number",
  ["71"] = "Issuer Script Template 1",
  ["72"] = "Issuer Script Template 2",
  ["82"] = "Application Interchange Profile",
  ["84"] = "Dedicated File Name",
  ["8A"] = "Authorisation Response Code",
  ["91"] = "Issuer Authentication Data",
  ["95"] = "Terminal Verification Results",
  ["9A"] = "Transaction Date",
  ["9B"] = "Transaction Status Information",
  ["9C"] = "Transaction Type",
  ["9F02"] = "Amount, Authorised",
  ["9F03"] = "Amount, Other",
  ["9F06"] = "Application Identifier (terminal)",
  ["9F09"] = "Application Version Number (terminal)",
  ["9F10"] = "Issuer Application Data",
  ["9F1A"] = "Terminal Country Code",
  ["9F1E"] = "Interface Device Serial Number",
  ["9F26"] = "Application Cryptogram",
  ["9F27"] = "Cryptogram Information Data",
  ["9F33"] = "Terminal Capabilities",
  ["9F34"] = "CVM Results",
  ["9F35"] = "Terminal Type",
  ["9F36"] = "Application Transaction Counter",
  ["9F37"] = "Unpredictable Number",
  ["9F41"] = "Transaction Sequence Counter",
  ["9F53"] = "Transaction Category Code",
  ["9F5B"] = "Issuer Script Results (CUP)",
  ["9F63"] = "Product Identification Information",
  ["9F66"] = "Terminal Transaction Qualifiers",
  ["9F6C"] = "Card Transaction Qualifiers",
  ["9F74"] = "VLP Issuer Authorization Code",
  ["DF31"] = "Issuer Script Results",
}

local PART_LENGTH, PART_TPDU, PART_HEADER, PART_MTI, PART_BITMAP = -3, -2, -1, 0, 1
local TPDU_BYTES, HEADER_BYTES = 5, 6
local TLV_ITEMS_MAX = 128
local FRAMES_PER_SEGMENT_MAX = 1024
-- The smallest frame worth a guess: length, TPDU, header, MTI, bitmap.
local HEURISTIC_BYTES_MIN = 2 + TPDU_BYTES + HEADER_BYTES + 2 + 8

-- ---------------------------------------------------------------- fields

local pf = {
  len = ProtoField.uint16("cup8583.len", "Length", base.DEC),
  tpdu = ProtoField.string("cup8583.tpdu", "TPDU"),
  header = ProtoField.string("cup8583.header", "Header"),
  mti = ProtoField.string("cup8583.mti", "MTI"),
  bitmap = ProtoField.string("cup8583.bitmap", "Bitmap"),
  present = ProtoField.string("cup8583.fields", "Fields present"),
  varlen = ProtoField.uint16("cup8583.varlen", "Length prefix", base.DEC),
  tlv = ProtoField.string("cup8583.f55.tlv", "TLV"),
  tlv_tag = ProtoField.string("cup8583.f55.tag", "Tag"),
  tlv_length = ProtoField.uint16("cup8583.f55.length", "Length", base.DEC),
  tlv_value = ProtoField.string("cup8583.f55.value", "Value"),
  f60_type = ProtoField.string("cup8583.f60.type", "60.1 Transaction type"),
  f60_batch = ProtoField.string("cup8583.f60.batch", "60.2 Batch number"),
  f60_net = ProtoField.string("cup8583.f60.netcode", "60.3 Network management code"),
  f60_read = ProtoField.string("cup8583.f60.readcap", "60.4 Terminal read capability"),
  f60_ic = ProtoField.string("cup8583.f60.iccond", "60.5 IC condition code"),
  f60_partial = ProtoField.string("cup8583.f60.partial", "60.6 Partial approval support"),
  f60_account = ProtoField.string("cup8583.f60.account", "60.7 Account type"),
  f61_batch = ProtoField.string("cup8583.f61.batch", "61.1 Original batch"),
  f61_stan = ProtoField.string("cup8583.f61.stan", "61.2 Original STAN"),
  f61_date = ProtoField.string("cup8583.f61.date", "61.3 Original date (MMDD)"),
  f53_pin = ProtoField.string("cup8583.f53.pinformat", "53.1 PIN block format"),
  f53_alg = ProtoField.string("cup8583.f53.algorithm", "53.2 Encryption algorithm"),
  f53_track = ProtoField.string("cup8583.f53.trackenc", "53.3 Track data encrypted"),
  f53_reserved = ProtoField.string("cup8583.f53.reserved", "53.4 Reserved"),
  f48_part = ProtoField.string("cup8583.f48.totals", "Totals"),
  f48_debit_amount = ProtoField.string("cup8583.f48.debit_amount", "Debit amount (minor units)"),
  f48_debit_count = ProtoField.string("cup8583.f48.debit_count", "Debit count"),
  f48_credit_amount = ProtoField.string("cup8583.f48.credit_amount", "Credit amount (minor units)"),
  f48_credit_count = ProtoField.string("cup8583.f48.credit_count", "Credit count"),
  f48_result = ProtoField.string("cup8583.f48.result", "Settlement result (0 request, 1 balanced, 2 unbalanced, 3 error)"),
  f54_amount = ProtoField.string("cup8583.f54.amount", "Amount"),
  f62_key = ProtoField.string("cup8583.f62.key", "Key (under the TMK)"),
  f62_check = ProtoField.string("cup8583.f62.check", "Check value"),
}
local pf_field = {}
for number, def in pairs(FIELDS) do
  pf_field[number] = ProtoField.string("cup8583.f" .. number, string.format("F%d %s", number, def[5]))
  pf["f" .. number] = pf_field[number]
end
proto.fields = pf

local ef_malformed = ProtoExpert.new("cup8583.malformed", "Malformed CUP ISO 8583 message", expert.group.MALFORMED,
  expert.severity.ERROR)
local ef_subfield = ProtoExpert.new("cup8583.subfield", "Sub-fields do not follow the CUP layout", expert.group.PROTOCOL,
  expert.severity.WARN)
proto.experts = { ef_malformed, ef_subfield }

proto.prefs.tcp_port = Pref.uint("TCP port", 8583, "The acquirer host's TCP port (plain, or the inside of a decrypted TLS stream)")
proto.prefs.heuristic = Pref.bool("Heuristic on other ports", true, "Try frames on any TCP port that look like CUP ISO 8583")

-- ---------------------------------------------------------------- byte helpers (on a Lua string, 0-based offsets)

local HEX = "0123456789ABCDEF"

local function hex(s, o, count)
  local out = {}
  for i = 0, count - 1 do
    local b = s:byte(o + i + 1)
    local hi, lo = math.floor(b / 16), b % 16
    out[#out + 1] = HEX:sub(hi + 1, hi + 1) .. HEX:sub(lo + 1, lo + 1)
  end
  return table.concat(out)
end

local function part_name(field)
  if field == PART_LENGTH then return "length prefix" end
  if field == PART_TPDU then return "TPDU" end
  if field == PART_HEADER then return "header" end
  if field == PART_MTI then return "MTI" end
  if field == PART_BITMAP then return "bitmap" end
  return "field " .. field
end

-- An error as the codec words it (modules/iso8583/error.ts), carried as a value, never raised.
local function fail(field, offset, reason, detail)
  local text = string.format("%s at byte %d: %s", part_name(field), offset, reason)
  if detail ~= nil and detail ~= "" then text = text .. " (" .. detail .. ")" end
  return { field = field, offset = offset, text = text }
end

-- `count` digits (digits_only) or nibbles packed from byte o; an odd count has its pad nibble first
-- (pad_first) or last, which must be 0. Returns the text or nil and an error.
local function bcd(s, field, o, count, pad_first, digits_only)
  local bytes = math.floor((count + 1) / 2)
  if count % 2 == 1 then
    local at = pad_first and o or o + bytes - 1
    local b = s:byte(at + 1)
    local pad = pad_first and math.floor(b / 16) or b % 16
    if pad ~= 0 then return nil, fail(field, at, "badPadNibble") end
  end
  local text = hex(s, o, bytes)
  if digits_only then
    for i = 0, bytes - 1 do
      local b = s:byte(o + i + 1)
      if b >= 0xA0 or b % 16 > 9 then return nil, fail(field, o + i, "badBcdNibble") end
    end
  end
  if count % 2 == 1 then
    if pad_first then return text:sub(2) end
    return text:sub(1, count)
  end
  return text
end

-- Text as the codec reads it: one character per byte. Bytes 0x80-0xFF (ans only: GBK names in answers) are
-- shown as the characters U+0080-U+00FF, UTF-8 encoded, as `tools/xspos decode` prints them.
local function text_of(s, field, o, count, ans)
  local code_max = ans and 0xFF or 0x7E
  local high = false
  for i = 0, count - 1 do
    local c = s:byte(o + i + 1)
    if c < 0x20 or c > code_max or c == 0x7F then return nil, fail(field, o + i, "nonText") end
    if c >= 0x80 then high = true end
  end
  if not high then return s:sub(o + 1, o + count) end
  local out = {}
  for i = 0, count - 1 do
    local c = s:byte(o + i + 1)
    out[#out + 1] = c < 0x80 and string.char(c) or string.char(0xC0 + math.floor(c / 64), 0x80 + c % 64)
  end
  return table.concat(out)
end

-- ---------------------------------------------------------------- sub-fields (never fatal: a warning)

local function add_parts(tree, range, value, parts)
  local at = 1
  for _, part in ipairs(parts) do
    local width, field = part[1], part[2]
    if at > #value then return end
    if at + width - 1 > #value then
      tree:add_proto_expert_info(ef_subfield, string.format("the sub-field at digit %d is cut short (%d of %d digits)", at, #value - at + 1, width))
      return
    end
    tree:add(field, range, value:sub(at, at + width - 1))
    at = at + width
  end
  if at <= #value then tree:add_proto_expert_info(ef_subfield, string.format("%d digits past the last sub-field", #value - at + 1)) end
end

local function f60(tree, range, value)
  add_parts(tree, range, value, {
    { 2, pf.f60_type }, { 6, pf.f60_batch }, { 3, pf.f60_net }, { 1, pf.f60_read }, { 1, pf.f60_ic },
    { 1, pf.f60_partial }, { 3, pf.f60_account },
  })
end

local function f61(tree, range, value)
  add_parts(tree, range, value, { { 6, pf.f61_batch }, { 6, pf.f61_stan }, { 4, pf.f61_date } })
end

local function f53(tree, range, value)
  add_parts(tree, range, value, { { 1, pf.f53_pin }, { 1, pf.f53_alg }, { 1, pf.f53_track }, { 13, pf.f53_reserved } })
end

-- 0500/0510 settlement totals: domestic then foreign, each amount 12, count 3, amount 12, count 3, result 1.
local function f48(tree, range, value)
  if #value ~= 62 then return end -- a batch upload's records: acquirer-specific layout, shown whole
  for i, label in ipairs({ "Domestic cards (内卡)", "Foreign cards (外卡)" }) do
    local part = value:sub((i - 1) * 31 + 1, i * 31)
    local sub = tree:add(pf.f48_part, range, part)
    sub:set_text(label .. ": " .. part)
    add_parts(sub, range, part, {
      { 12, pf.f48_debit_amount }, { 3, pf.f48_debit_count }, { 12, pf.f48_credit_amount }, { 3, pf.f48_credit_count },
      { 1, pf.f48_result },
    })
  end
end

local ACCOUNT_AMOUNT_CHARS = 20

local function f54(tree, range, value)
  if #value % ACCOUNT_AMOUNT_CHARS ~= 0 then
    tree:add_proto_expert_info(ef_subfield, "F54 is not whole 20-character amounts")
    return
  end
  for at = 1, #value, ACCOUNT_AMOUNT_CHARS do
    local item = value:sub(at, at + ACCOUNT_AMOUNT_CHARS - 1)
    local sub = tree:add(pf.f54_amount, range, item)
    sub:set_text(string.format("Amount: account type %s, amount type %s, currency %s, %s %s", item:sub(1, 2), item:sub(3, 4),
      item:sub(5, 7), item:sub(8, 8), item:sub(9, 20)))
  end
end

-- 0810 working keys: PIK|CV|MAK|CV[|TDK|CV], keys of 8 (24 bytes) or 16 bytes (40, 60).
local function f62(tree, range, value, mti)
  if mti ~= "0810" then return end
  local bytes = #value / 2
  local key_bytes = (bytes == 24 and 8) or ((bytes == 40 or bytes == 60) and 16) or 0
  if key_bytes == 0 then
    tree:add_proto_expert_info(ef_subfield, string.format("%d bytes of keys; 24, 40 or 60 expected", bytes))
    return
  end
  local at = 1
  for _, name in ipairs({ "PIK", "MAK", "TDK" }) do
    if at > #value then return end
    local key = tree:add(pf.f62_key, range, value:sub(at, at + 2 * key_bytes - 1))
    key:set_text(name .. " (under the TMK): " .. value:sub(at, at + 2 * key_bytes - 1))
    at = at + 2 * key_bytes
    local check = tree:add(pf.f62_check, range, value:sub(at, at + 7))
    check:set_text(name .. " check value: " .. value:sub(at, at + 7))
    at = at + 8
  end
end

-- F55 BER-TLV (modules/iso8583/tlv.ts rules): tags of 1-3 bytes, lengths short, 81 or 82 (minimal form).
local function f55(tree, tvb, base, s, o, count)
  local p, stop, items = o, o + count, 0
  while p < stop do
    if items == TLV_ITEMS_MAX then
      tree:add_proto_expert_info(ef_subfield, string.format("F55: more than %d TLV items", TLV_ITEMS_MAX))
      return
    end
    local start = p
    local first = s:byte(p + 1)
    local problem
    if first == 0x00 or first == 0xFF then problem = "a tag cannot start with 00 or FF (padding)" end
    p = p + 1
    if problem == nil and first % 32 == 31 then
      while true do
        if p >= stop then problem = "the bytes end inside a tag" break end
        if p - start == 3 then problem = "tag longer than 3 bytes" break end
        local b = s:byte(p + 1)
        p = p + 1
        if b < 0x80 then break end
      end
    end
    local length
    local tag_end = p
    if problem == nil then
      if p >= stop then
        problem = "the bytes end before a length"
      else
        length = s:byte(p + 1)
        p = p + 1
        if length > 0x7F then
          local length_bytes = length - 0x80
          if length_bytes < 1 or length_bytes > 2 then
            problem = "only short, 81 and 82 length forms"
          elseif p + length_bytes > stop then
            problem = "the bytes end inside a length"
          else
            length = length_bytes == 1 and s:byte(p + 1) or s:byte(p + 1) * 256 + s:byte(p + 2)
            if length < (length_bytes == 1 and 0x80 or 0x100) then problem = "a longer length form than needed" end
            p = p + length_bytes
          end
        end
        if problem == nil and p + length > stop then
          problem = string.format("%d bytes declared, %d left", length, stop - p)
        end
      end
    end
    if problem ~= nil then
      tree:add_proto_expert_info(ef_subfield, string.format("F55 TLV at byte %d: %s", start - o, problem))
      return
    end
    local tag = hex(s, start, tag_end - start)
    local value = hex(s, p, length)
    local item = tree:add(pf.tlv, tvb(base + start, p + length - start), tag)
    item:set_text(string.format("%s %s(%d): %s", tag, TAG_NAMES[tag] and TAG_NAMES[tag] .. " " or "", length, value))
    item:add(pf.tlv_tag, tvb(base + start, tag_end - start), tag)
    item:add(pf.tlv_length, tvb(base + tag_end, p - tag_end), length)
    if length > 0 then item:add(pf.tlv_value, tvb(base + p, length), value) end
    p = p + length
    items = items + 1
  end
end

-- ---------------------------------------------------------------- one frame

-- Dissects the frame at tvb offset `base` (its 2-byte length prefix included) whose bytes are the string s.
-- Returns the MTI and STAN for the Info column (either may be nil) and the error, if any.
local function dissect_frame(tvb, base, s, tree)
  local root = tree:add(proto, tvb(base, #s))
  local info = {}
  local function at(o, count) return tvb(base + o, count) end
  local function flag(err)
    root:add_proto_expert_info(ef_malformed, err.text)
    root:append_text(" [malformed: " .. err.text .. "]")
    info.error = err.text
    return info
  end

  local frame_length = s:byte(1) * 256 + s:byte(2)
  root:add(pf.len, at(0, 2), frame_length)
  local stop = #s
  local o = 2
  if o + TPDU_BYTES + HEADER_BYTES > stop then
    return flag(fail(o + TPDU_BYTES > stop and PART_TPDU or PART_HEADER, o, "truncated"))
  end
  root:add(pf.tpdu, at(o, TPDU_BYTES), hex(s, o, TPDU_BYTES))
  o = o + TPDU_BYTES
  root:add(pf.header, at(o, HEADER_BYTES), hex(s, o, HEADER_BYTES))
  o = o + HEADER_BYTES
  if o + 2 > stop then return flag(fail(PART_MTI, o, "truncated")) end
  local mti, err = bcd(s, PART_MTI, o, 4, false, true)
  if mti == nil then return flag(err) end
  info.mti = mti
  local mti_item = root:add(pf.mti, at(o, 2), mti)
  if MTI_NAMES[mti] then mti_item:append_text(" (" .. MTI_NAMES[mti] .. ")") end
  root:append_text(", " .. mti)
  o = o + 2

  if o + 8 > stop then return flag(fail(PART_BITMAP, o, "truncated")) end
  local bitmap_bytes = s:byte(o + 1) >= 0x80 and 16 or 8
  if o + bitmap_bytes > stop then return flag(fail(PART_BITMAP, o + 8, "truncated")) end
  local present = {}
  for i = 0, bitmap_bytes - 1 do
    local b = s:byte(o + i + 1)
    for bit = 0, 7 do
      if math.floor(b / 2 ^ (7 - bit)) % 2 == 1 and not (i == 0 and bit == 0) then present[#present + 1] = 8 * i + bit + 1 end
    end
  end
  local bitmap_item = root:add(pf.bitmap, at(o, bitmap_bytes), hex(s, o, bitmap_bytes))
  bitmap_item:add(pf.present, at(o, bitmap_bytes), table.concat(present, " "))
  o = o + bitmap_bytes

  local last = PART_BITMAP
  for _, n in ipairs(present) do
    local def = FIELDS[n]
    if def == nil then return flag(fail(n, o, "undefinedField")) end
    local kind, length_type, length_max, align = def[1], def[2], def[3], def[4]
    local start = o
    local count = length_max
    local prefix_bytes = length_type == "LL" and 1 or length_type == "LLL" and 2 or 0
    if prefix_bytes > 0 then
      if o + prefix_bytes > stop then return flag(fail(n, o, "truncated", "length prefix")) end
      count = 0
      for i = 0, prefix_bytes - 1 do
        local b = s:byte(o + i + 1)
        if math.floor(b / 16) > 9 or b % 16 > 9 then return flag(fail(n, o + i, "badBcdNibble", "length prefix")) end
        count = count * 100 + math.floor(b / 16) * 10 + b % 16
      end
      if count > length_max then
        return flag(fail(n, o, "lengthOverMaximum", string.format("%d > %d", count, length_max)))
      end
      o = o + prefix_bytes
    end
    local data_bytes = (kind == "n" or kind == "z") and math.floor((count + 1) / 2) or count
    if o + data_bytes > stop then
      return flag(fail(n, o, "truncated", string.format("%d bytes declared, %d left", data_bytes, stop - o)))
    end
    local value
    if kind == "b" then
      value = hex(s, o, count)
    elseif kind == "n" or kind == "z" then
      value, err = bcd(s, n, o, count, align == "right", kind == "n")
    else
      value, err = text_of(s, n, o, count, kind == "ans")
    end
    if value == nil then return flag(err) end
    local item = root:add(pf_field[n], at(start, o + data_bytes - start), value)
    if prefix_bytes > 0 then item:add(pf.varlen, at(start, prefix_bytes), count) end
    local range = at(o, data_bytes)
    if n == 11 then info.stan = value end
    if n == 39 then info.f39 = value end
    if n == 48 then f48(item, range, value) end
    if n == 53 then f53(item, range, value) end
    if n == 54 then f54(item, range, value) end
    if n == 55 then f55(item, tvb, base, s, o, count) end
    if n == 60 then f60(item, range, value) end
    if n == 61 then f61(item, range, value) end
    if n == 62 then f62(item, range, value, mti) end
    o = o + data_bytes
    last = n
  end
  if o ~= stop then return flag(fail(last, o, "trailingBytes", string.format("%d bytes after the last field", stop - o))) end
  return info
end

-- ---------------------------------------------------------------- TCP: frames split over segments, several per segment

local function dissect_safely(tvb, base, length, pinfo, tree)
  local ok, result = pcall(function() return dissect_frame(tvb, base, tvb:raw(base, length), tree) end)
  if not ok then
    -- A bug here must not hide the capture: flag the frame, keep going.
    local item = tree:add(proto, tvb(base, length))
    item:add_proto_expert_info(ef_malformed, "dissector error: " .. tostring(result))
    return { error = "dissector error" }
  end
  return result
end

function proto.dissector(tvb, pinfo, tree)
  local total = tvb:len()
  local offset = 0
  local summaries = {}
  for _ = 1, FRAMES_PER_SEGMENT_MAX do
    if offset >= total then break end
    local remaining = total - offset
    if remaining < 2 then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      break
    end
    local length = tvb(offset, 2):uint()
    if remaining < length + 2 then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = length + 2 - remaining
      break
    end
    local info = dissect_safely(tvb, offset, length + 2, pinfo, tree)
    local summary = (info.mti or "?") .. (info.stan and (" STAN " .. info.stan) or "") .. (info.f39 and (" F39 " .. info.f39) or "")
    if info.error then summary = summary .. " [malformed]" end
    summaries[#summaries + 1] = summary
    offset = offset + length + 2
  end
  if #summaries > 0 then
    pinfo.cols.protocol = "CUP8583"
    pinfo.cols.info = table.concat(summaries, "; ")
  end
  return total
end

-- A heuristic for other ports: a length prefix, TPDU id 60, a BCD MTI 01xx to 09xx.
local function looks_like_cup(tvb)
  if not proto.prefs.heuristic or tvb:len() < HEURISTIC_BYTES_MIN then return false end
  local length = tvb(0, 2):uint()
  if length < HEURISTIC_BYTES_MIN - 2 or tvb(2, 1):uint() ~= 0x60 then return false end
  local m1, m2 = tvb(13, 1):uint(), tvb(14, 1):uint()
  return m1 >= 0x01 and m1 <= 0x09 and math.floor(m2 / 16) <= 9 and m2 % 16 <= 9
end

-- Plain TCP: the whole conversation is CUP from its first frame on.
local function heuristic_tcp(tvb, pinfo, tree)
  if not looks_like_cup(tvb) then return false end
  pinfo.conversation = proto
  proto.dissector(tvb, pinfo, tree)
  return true
end

-- Inside TLS that Wireshark decrypts (TLS preference "(Pre)-Master-Secret log filename" = the run's SSLKEYLOGFILE):
-- tried on each record's application data (the terminal writes a frame per record), the conversation left to TLS.
local function heuristic_tls(tvb, pinfo, tree)
  if not looks_like_cup(tvb) then return false end
  proto.dissector(tvb, pinfo, tree)
  return true
end

local registered_port = 0

local function register_port()
  local tcp = DissectorTable.get("tcp.port")
  if registered_port ~= 0 then tcp:remove(registered_port, proto) end
  registered_port = proto.prefs.tcp_port
  if registered_port ~= 0 then tcp:add(registered_port, proto) end
end

function proto.prefs_changed()
  if registered_port ~= proto.prefs.tcp_port then register_port() end
end

register_port()
proto:register_heuristic("tcp", heuristic_tcp)
proto:register_heuristic("tls", heuristic_tls)
