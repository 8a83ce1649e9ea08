-- filament's per-request check for HAProxy 2.6+ (Lua 5.3, core.httpclient): asks the sidecar on
-- this host about each request before it reaches the model server, passing the body so payloads
-- are checked too. Load it in the global section and call it from a frontend:
--
--   global
--     lua-load /etc/haproxy/filament-check.lua
--   frontend models
--     option http-buffer-request             # HAProxy waits for the body (up to tune.bufsize)
--     http-request lua.filament_check unix@/run/filament/filament-check.sock closed
--     ... http-request return rules on var(txn.filament_status): see haproxy.cfg beside this file
--
-- Arguments: where filament's check endpoint listens (an HAProxy address: unix@/path or
-- 127.0.0.1:9469), then "closed" (filament unreachable: refuse with 503) or "open" (let the
-- request through unchecked). It sets:
--   txn.filament_verdict  allow | unchecked | elsewhere | refused | malformed | unavailable
--   txn.filament_status   the status to answer with when the verdict is not allow (421, 409, ...)
--   txn.filament_reason   the reason code (MODEL_NOT_LOADED, PAYLOAD_INVALID, CARRIER_MISSING, ...)
--   txn.filament_body     the JSON body to answer with
--   txn.filament_rule_version  on allow: the rule version the request was judged against
-- A body larger than HAProxy buffered (tune.bufsize) is not sent: the check then judges the
-- ObjectiveConfig alone and says so (Filament-Body: partial).

local function header_values(headers, name)
  local values = headers[name]
  if values == nil then return nil end
  local list = {}
  for i = 0, #values do
    if values[i] ~= nil then list[#list + 1] = values[i] end
  end
  return list
end

local function first(headers, name)
  local values = headers and headers[name]
  if values == nil then return nil end
  return values[0] or values[1]
end

local function check(txn, address, failure)
  local headers = txn.http:req_get_headers()
  local outgoing = { ["content-type"] = header_values(headers, "content-type") }
  -- Every copy of the carrier goes: a request that sends it twice is refused, never guessed at.
  outgoing["filament-objective"] = header_values(headers, "filament-objective")
  local body = txn.f:req_body()
  local complete = body ~= nil and txn.f:req_body_len() == txn.f:req_body_size()
  if body ~= nil and body ~= "" and not complete then
    outgoing["filament-body"] = { "partial" }
    body = nil
  end
  local client = core.httpclient()
  local answer = client:post{
    url = "http://filament/v1/check",
    dst = address,
    headers = outgoing,
    body = (complete and body) or "",
    timeout = 2000,
  }
  -- No answer from filament: no connection (the httpclient then reports HAProxy's own 503), a
  -- timeout, or something else answering without a verdict.
  local verdict = answer and answer.status and answer.status ~= 0 and first(answer.headers, "filament-verdict")
  if not verdict then
    if failure == "open" then
      txn:set_var("txn.filament_verdict", "unchecked")
      return
    end
    txn:set_var("txn.filament_verdict", "unavailable")
    txn:set_var("txn.filament_status", 503)
    txn:set_var("txn.filament_body", '{"verdict":"unavailable","message":"the filament check did not answer"}')
    return
  end
  txn:set_var("txn.filament_verdict", verdict)
  txn:set_var("txn.filament_reason", first(answer.headers, "filament-reason") or "")
  txn:set_var("txn.filament_rule_version", first(answer.headers, "filament-rule-version") or "")
  if verdict ~= "allow" and verdict ~= "unchecked" then
    txn:set_var("txn.filament_status", answer.status)
    -- Without its final newline (HAProxy's log-format would write it as %0A).
    txn:set_var("txn.filament_body", ((answer.body or ""):gsub("\n$", "")))
  end
end

core.register_action("filament_check", { "http-req" }, check, 2)
