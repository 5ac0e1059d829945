-- wrk script for calls over many ids with every status checked (the scale, memory-with-state
-- and pass-through scenarios):
--
--   wrk ... -s calls.lua URL -- VERB PATH BODY STATUS PREFIX N_IDS [STOP_AFTER]
--
-- PATH has one %s, replaced by the id PREFIX-n with n cycling over 0 .. N_IDS-1 (round robin:
-- after one lap every id has had a call). BODY "-" sends no body, anything else is sent as
-- JSON. Every response must have STATUS; the first that does not is printed with its body.
--
-- wrk calls request() once before the run only to check it (script_verify_request) and never
-- sends that request, so the first lap starts at PREFIX-1 and reaches PREFIX-0 last: a lap is
-- still exactly N_IDS requests. STOP_AFTER > 0 stops sending once that many responses arrived
-- (wrk still sleeps until -d is over: the harness interrupts it with SIGINT).
-- done() prints one line "BENCH_RESULT {json}" that the harness parses.

local verb, path, body, prefix, n_ids, stop_after
local headers = {}
local sent, received = 0, 0
local threads = {}

-- Globals, read from each thread's Lua state by done() through thread:get().
expected_status = 0
unexpected = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  verb, path, body, expected_status, prefix, n_ids = args[1], args[2], args[3],
    tonumber(args[4]), args[5], tonumber(args[6])
  stop_after = tonumber(args[7] or "0")
  if n_ids == nil or n_ids < 1 or expected_status == nil or not string.find(path or "", "%%s") then
    error("usage: VERB PATH(with %s) BODY|- STATUS PREFIX N_IDS [STOP_AFTER]")
  end
  if body == "-" then
    body = nil
  else
    headers["Content-Type"] = "application/json"
  end
end

function request()
  local id = prefix .. "-" .. (sent % n_ids)
  sent = sent + 1
  return wrk.format(verb, string.format(path, id), headers, body)
end

function response(status, _, response_body)
  if status ~= expected_status then
    unexpected = unexpected + 1
    if unexpected == 1 then
      io.write("UNEXPECTED ", status, " (expected ", expected_status, "): ",
        tostring(response_body), "\n")
    end
  end
  received = received + 1
  if stop_after > 0 and received >= stop_after then
    wrk.thread:stop()
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
