-- GET /v1.0/state/<store>/<prefix><i % pool>: reads over a pool of pre-populated keys.
-- wrk ... -s wrk_get.lua URL -- <store> <prefix> <pool>
dofile((os.getenv("BENCH_DIR") or "bench") .. "/wrk_common.lua")

function init(args)
  store = args[1] or "statestore"
  prefix = args[2] or "bench-get-"
  pool = tonumber(args[3] or "100")
  counter = -1  -- request() is called once by wrk before the run (see wrk_save.lua)
  base = "/v1.0/state/" .. store .. "/" .. prefix
end

function request()
  local i = counter
  counter = counter + 1
  return wrk.format("GET", base .. (i % pool))
end

function done(summary, latency, requests)
  report(summary, latency)
end
