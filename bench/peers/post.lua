-- wrk script of bench/peers.sh: POSTs the JSON bodies of the file $BODIES (one per line),
-- cycling through them, each thread from its own offset. At the end it prints one line,
--   RESULT <tab> requests <tab> rps <tab> p50_ms <tab> p90_ms <tab> p99_ms <tab> non2xx <tab> socket_errors <tab> check
-- where check is "-", or with CHECK=1 (responses are then read, which costs wrk time)
-- "responses=N non200=N errors=N no_data=N": bodies with "errors", bodies without "data".
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local n = #bodies
local checking = os.getenv("CHECK") == "1"

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local i = 0
function init(args)
  i = (tid or 0) * math.floor(n / 2)
end

function request()
  i = i % n + 1
  return wrk.format(nil, nil, nil, bodies[i])
end

if checking then
  responses, non200, errors, no_data = 0, 0, 0, 0
  function response(status, headers, body)
    responses = responses + 1
    if status ~= 200 then non200 = non200 + 1 end
    if body:find('"errors"', 1, true) then errors = errors + 1 end
    if not body:find('"data"', 1, true) then no_data = no_data + 1 end
  end
end

function done(summary, latency, requests)
  local check = "-"
  if checking then
    local t = { responses = 0, non200 = 0, errors = 0, no_data = 0 }
    for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
    end
    check = string.format("responses=%d non200=%d errors=%d no_data=%d", t.responses, t.non200, t.errors, t.no_data)
  end
  local e = summary.errors
  io.write(string.format("RESULT\t%d\t%.2f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%s\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, check))
end
