-- Sends the raw requests of a pool file (bench/pool.py) in order, one per request over all
-- the thread's connections, starting again at the first when the pool runs out (counted as
-- "passes", so a caller needing every request unique can tell), and prints the summary as one
-- JSON line (prefixed BENCH_JSON) for bench/loadgen.py.
-- Arguments after "--": <pool file>

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local pool = {}
index = 0
passes = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  while true do
    local line = file:read("*l")
    if not line then break end
    pool[#pool + 1] = file:read(tonumber(line))
  end
  file:close()
  assert(#pool > 0, "empty pool")
end

function request()
  index = index + 1
  if index > #pool then
    index = 1
    passes = passes + 1
  end
  return pool[index]
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + thread:get("passes")
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"passes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, wrapped,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
