-- Etag-checked save: POST /v1.0/state/<store> with one item per request, carrying the
-- correct etag, options.concurrency=first-write. The pool keys <prefix>0..<prefix>(pool-1)
-- must already exist at version 1. Request i writes key i % pool with etag 1 + i // pool, so
-- while i < pool every key is written exactly once with "etag":"1"; if the pool runs out the
-- keys are visited again with their next version (still the correct etag, since a key is
-- revisited only `pool` requests later, long after its previous write completed).
-- wrk ... -s wrk_save.lua URL -- <store> <prefix> <pool>
dofile((os.getenv("BENCH_DIR") or "bench") .. "/wrk_common.lua")

local filler = string.rep("x", 100)

function init(args)
  store = args[1] or "statestore"
  prefix = args[2] or "bench-save-"
  pool = tonumber(args[3] or "1024")
  -- wrk calls request() once before the run to check it (script_verify_request) and never
  -- sends that request: start at -1 so the first request sent is i = 0.
  counter = -1
  path = "/v1.0/state/" .. store
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  local i = counter
  counter = counter + 1
  local key = prefix .. (i % pool)
  local etag = 1 + math.floor(i / pool)
  local body = '[{"key":"' .. key .. '","value":{"n":' .. i .. ',"s":"' .. filler ..
               '"},"etag":"' .. etag .. '","options":{"concurrency":"first-write"}}]'
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
