-- Shared by wrk_get.lua and wrk_save.lua (loaded with dofile by path given in BENCH_DIR).
-- wrk runs one Lua state per thread; `counter` is a global of the thread's state so that
-- done() can read it with thread:get("counter").
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function report(summary, latency)
  local sent = 0
  for _, t in ipairs(threads) do
    sent = sent + (t:get("counter") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%.1f,"p99_us":%.1f,' ..
    '"max_us":%.1f,"sent":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, sent))
end
