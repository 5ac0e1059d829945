-- wrk script for the dev sidecar benchmarks; ids ship-0 .. ship-(N_IDS-1), cycled.
--
--   wrk ... -s sidecar.lua URL -- fly app N_IDS
--       PUT /actors/x-wing/{id}/method/fly {"destination":"Hoth"}: straight to the app.
--   wrk ... -s sidecar.lua URL -- fly sidecar N_IDS
--       PUT /v1.0/actors/x-wing/{id}/method/fly, same body: through the dev sidecar.
--   wrk ... -s sidecar.lua URL -- state N_IDS
--       POST /v1.0/actors/x-wing/{id}/state with a one-upsert transaction. The harness has
--       activated every id beforehand (the sidecar only writes state of active actors).
--
-- Every response's status is checked: 200 for fly, 204 for state (wrk itself only counts
-- statuses >= 400). The first unexpected one is printed with its body; done() prints one
-- line "BENCH_RESULT {json}" with the count in "unexpected_status".

local method, path, body, n_ids
local sent = 0
local headers = { ["Content-Type"] = "application/json" }
local threads = {}

-- Globals, read from each thread's Lua state by done() through thread:get().
expected_status = 0
unexpected = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local mode, target = args[1], args[2]
  if mode == "fly" and (target == "app" or target == "sidecar") then
    path = (target == "sidecar" and "/v1.0" or "") .. "/actors/x-wing/%s/method/fly"
    body, expected_status, n_ids = '{"destination":"Hoth"}', 200, tonumber(args[3])
    method = "PUT"
  elseif mode == "state" then
    path = "/v1.0/actors/x-wing/%s/state"
    body = '[{"operation":"upsert","request":{"key":"k","value":{"n":1}}}]'
    expected_status, n_ids = 204, tonumber(args[2])
    method = "POST"
  else
    error("usage: fly app|sidecar N_IDS, or state N_IDS; got " .. tostring(mode))
  end
end

function request()
  local id = "ship-" .. (sent % n_ids)
  sent = sent + 1
  return wrk.format(method, string.format(path, id), headers, body)
end

function response(status, _, response_body)
  if status ~= expected_status then
    unexpected = unexpected + 1
    if unexpected == 1 then
      io.write("UNEXPECTED ", status, " (expected ", expected_status, "): ",
        tostring(response_body), "\n")
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("unexpected")
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"unexpected_status":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout, wrong))
end
