-- wrk script for the actor benchmarks: PUT /actors/x-wing/{id}/method/fly {"destination":"Hoth"}
--
--   wrk ... -s actors.lua URL -- stateless N_IDS [STOP_AFTER]
--       ids ship-0 .. ship-(N_IDS-1), cycled: after the first lap every call hits a live actor.
--   wrk ... -s actors.lua URL -- activate PREFIX [STOP_AFTER]
--       ids PREFIX-1, PREFIX-2, ...: every call activates a new actor. PREFIX must be unique
--       per wrk run. With STOP_AFTER, exactly STOP_AFTER actors are activated; later calls go
--       to ship-0, which the harness has activated beforehand.
--
-- wrk calls request() once before the run only to check it (script_verify_request) and never
-- sends that request; the first call therefore returns ship-0, so that the activation count
-- is exact whether or not a first call is sent.
--
-- STOP_AFTER > 0 stops sending once that many responses have arrived. wrk itself still
-- sleeps until -d ends, so the harness interrupts it (SIGINT) when the actors are live.
-- done() prints one line "BENCH_RESULT {json}" that the harness parses.

local mode, n_ids, prefix, stop_after
local sent, received = 0, 0
local headers = { ["Content-Type"] = "application/json" }
local body = '{"destination":"Hoth"}'

local function on_response(status)
  received = received + 1
  if received > stop_after then
    wrk.thread:stop()
  end
end

function init(args)
  mode = args[1]
  if mode == "stateless" then
    n_ids = tonumber(args[2])
  elseif mode == "activate" then
    prefix = args[2]
  else
    error("mode must be 'stateless' or 'activate', got " .. tostring(mode))
  end
  stop_after = tonumber(args[3] or "0")
  if stop_after > 0 then
    -- Only then: a response() callback makes wrk parse every response's headers and body.
    response = on_response
  end
end

function request()
  local id
  if mode == "stateless" then
    id = "ship-" .. (sent % n_ids)
  elseif sent == 0 or (stop_after > 0 and sent > stop_after) then
    id = "ship-0"
  else
    id = prefix .. "-" .. sent
  end
  sent = sent + 1
  return wrk.format("PUT", "/actors/x-wing/" .. id .. "/method/fly", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
