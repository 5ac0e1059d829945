-- wrk script for the stateful scenario: PUT /actors/x-wing/{id}/method/count, no body.
--
--   wrk ... -s stateful.lua URL -- N_IDS
--       ids ship-0 .. ship-(N_IDS-1), cycled: after the first lap every call hits a live actor
--       whose state is cached; each call reads "count", writes count + 1 and answers it.
--
-- Every response is checked: status 200 and a body that is a positive integer (the new
-- count). The first unexpected one is printed with its body; done() prints one line
-- "BENCH_RESULT {json}" with the count in "unexpected_status".

local n_ids
local sent = 0
local threads = {}

-- Globals, read from each thread's Lua state by done() through thread:get().
unexpected = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n_ids = tonumber(args[1])
  if n_ids == nil or n_ids < 1 then
    error("usage: N_IDS; got " .. tostring(args[1]))
  end
end

function request()
  local id = "ship-" .. (sent % n_ids)
  sent = sent + 1
  return wrk.format("PUT", "/actors/x-wing/" .. id .. "/method/count")
end

function response(status, _, response_body)
  if status ~= 200 or not string.match(response_body or "", "^[1-9]%d*$") then
    unexpected = unexpected + 1
    if unexpected == 1 then
      io.write("UNEXPECTED ", status, " (expected 200 and a count): ",
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
