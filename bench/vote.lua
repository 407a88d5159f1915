-- wrk script: posts the votes of a body file (one JSON vote per line, written
-- by bench/votes.py) to wrk's URL path, cycling through them.
-- Only a 202 counts as an acknowledged vote. wrk stops at its deadline without
-- reading the answers still in flight, so "sent - answered" is the number of
-- votes whose outcome the run never saw (they may still be counted).
-- Env: URNA_WRK_BODIES (required), the body file.

local bodies_path = os.getenv("URNA_WRK_BODIES")
local requests = {}
local next_index = 1
local threads = {}

sent = 0
answered = 0
acknowledged = 0
rejected = 0

local function load_requests()
  local file = assert(io.open(bodies_path, "r"), "cannot open URNA_WRK_BODIES=" .. tostring(bodies_path))
  local headers = { ["Content-Type"] = "application/json" }
  for line in file:lines() do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", wrk.path, headers, line)
    end
  end
  file:close()
  assert(#requests > 0, "no votes in " .. bodies_path)
end

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  load_requests()
  -- Each thread starts at another place in the file so threads do not send
  -- the same votes in lockstep.
  next_index = (thread_index * 7919) % #requests + 1
end

function request()
  local req = requests[next_index]
  next_index = next_index % #requests + 1
  sent = sent + 1
  return req
end

function response(status, headers, body)
  answered = answered + 1
  if status == 202 then
    acknowledged = acknowledged + 1
  else
    rejected = rejected + 1
  end
end

function done(summary, latency, requests_done)
  local totals = { sent = 0, answered = 0, acknowledged = 0, rejected = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  io.write(string.format(
    "urna-wrk: sent=%d answered=%d acknowledged=%d rejected=%d socket_errors=%d duration_us=%d\n",
    totals.sent, totals.answered, totals.acknowledged, totals.rejected,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration))
  io.write(string.format("urna-wrk-latency-us: p50=%d p90=%d p99=%d p999=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
