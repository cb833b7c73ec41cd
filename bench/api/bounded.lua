-- bench/api/bounded.lua: makes a wrk run bounded by count as well as by
-- time (-d): each thread stops after MAX_PER_THREAD answers (environment;
-- 0 = no count bound). wrk's own Requests/sec divides by the whole -d even
-- when threads stopped early, so the rate is measured here: answers over
-- the time from the first thread's start to the last answer (CLOCK_MONOTONIC
-- through LuaJIT's FFI). Prints, after wrk's report:
--   answers: N  non-200: N  seconds: S  rps: R  p50_us: N  p99_us: N  capped: 0|1
-- run.sh treats non-200 > 0 as a failed run.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local max = tonumber(os.getenv("MAX_PER_THREAD") or "0")
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    answers, bad, capped = 0, 0, 0
    t_first = now()
    t_last = t_first
end

function response(status, headers, body)
    answers = answers + 1
    t_last = now()
    if status ~= 200 then bad = bad + 1 end
    if max > 0 and answers >= max then
        capped = 1
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local n, nbad, first, last, cap = 0, 0, math.huge, 0, 0
    for _, t in ipairs(threads) do
        n = n + t:get("answers")
        nbad = nbad + t:get("bad")
        first = math.min(first, t:get("t_first"))
        last = math.max(last, t:get("t_last"))
        cap = math.max(cap, t:get("capped"))
    end
    local secs = last - first
    io.write(string.format("answers: %d  non-200: %d  seconds: %.3f  rps: %.1f  p50_us: %d  p99_us: %d  capped: %d\n",
        n, nbad, secs, secs > 0 and n / secs or 0, latency:percentile(50), latency:percentile(99), cap))
end
