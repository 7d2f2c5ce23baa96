-- wrk script for bench/registration.py: POST a registration with a unique
-- e-mail per request and count every response by status (and by the API's
-- error code for 4xx/5xx), across all wrk threads.
--
--   wrk -t2 -c16 -d10s -s bench/register.lua http://127.0.0.1:PORT -- PATH PREFIX [CONTACT PHONE_BASE [RATE THREADS]]
--
-- PATH       the endpoint, e.g. /api/v1/ceremonies/1/registrations
-- PREFIX     makes the e-mails unique across wrk runs against the same ceremony
-- CONTACT    email (default) or phone
-- PHONE_BASE with phone: the first of this run's numbers, +7 701 xxx xx xx
--            (blocks of 500,000 apart; 200,000 a thread)
-- RATE       requests a second offered by the whole run (0 or absent: as fast as
--            the connections go).  Each thread sends its share (RATE / THREADS,
--            the threads staggered) at fixed times on its own schedule: delay()
--            waits until the next free time, so a slow response does not lower
--            the rate; when every connection is busy the requests fall behind
--            and go out as soon as a connection frees, to catch up.  The
--            concurrency stays capped by -c: the achieved rate is the figure.
-- THREADS    with RATE: wrk's -t
--
-- done() prints one line per counter, "WRKSTAT status 201 1234" or
-- "WRKSTAT code 409:ceremony_full 5", that bench/_harness.py parses; with
-- RATE also "WRKSTAT paced LATE MAX_LAG_MS": the requests sent more than
-- LATE_MS behind their time and the furthest behind any went.

local LATE_MS = 100

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count)
   table.insert(threads, thread)
end

function init(args)
   path = args[1] or "/"
   prefix = args[2] or "run"
   -- "email" (default): a unique e-mail each; "phone": a unique (valid)
   -- phone number each, from PHONE_BASE (a block the caller gives every wrk
   -- run), no e-mail
   contact = args[3] or "email"
   phone_base = tonumber(args[4] or "0")
   counter = 0
   statuses = {}
   codes = {}
   headers = {["Content-Type"] = "application/json", ["Accept-Language"] = "kk"}
   local rate = tonumber(args[5] or "0")
   if rate > 0 then
      pace(rate, tonumber(args[6] or "1"))
   end
end

-- Pacing: wrk calls delay() (if defined once init has run) before each
-- request and waits that many milliseconds.  The clock is CLOCK_MONOTONIC
-- through LuaJIT's FFI (wrk's Lua has no wall clock finer than a second).
function pace(rate, nthreads)
   local ffi = require("ffi")
   ffi.cdef[[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clk_id, bench_timespec *tp);
   ]]
   local ts = ffi.new("bench_timespec")
   local function now_ms()
      ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
      return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
   end
   local interval = 1000 * nthreads / rate  -- ms between this thread's requests
   local next_time = nil
   late, max_lag = 0, 0
   delay = function()
      local now = now_ms()
      if next_time == nil then
         next_time = now + (tid - 1) * interval / nthreads
      end
      local wait = next_time - now
      next_time = next_time + interval
      if wait < 0 then
         if -wait > max_lag then max_lag = -wait end
         if -wait > LATE_MS then late = late + 1 end
         return 0
      end
      return wait
   end
end

function request()
   counter = counter + 1
   local reach
   if contact == "phone" then
      reach = string.format('"phone": "+7701%07d"', phone_base + tid * 200000 + counter)
   else
      reach = string.format('"email": "%s-t%d-%d@bench.kz"', prefix, tid, counter)
   end
   local body = string.format(
      '{"full_name": "Қасымова Әйгерім %d-%d", %s, ' ..
      '"category": "guest", "consent": true, "companions": 0}',
      tid, counter, reach)
   return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if status >= 400 then
      local code = string.match(body or "", '"code"%s*:%s*"([^"]*)"') or "-"
      local ckey = key .. ":" .. code
      codes[ckey] = (codes[ckey] or 0) + 1
   end
end

function done(summary, latency, requests)
   local total_status, total_codes = {}, {}
   local paced, total_late, total_max_lag = false, 0, 0
   for _, thread in ipairs(threads) do
      local thread_late = thread:get("late")
      if thread_late ~= nil then
         paced = true
         total_late = total_late + thread_late
         total_max_lag = math.max(total_max_lag, thread:get("max_lag"))
      end
      for k, v in pairs(thread:get("statuses") or {}) do
         total_status[k] = (total_status[k] or 0) + v
      end
      for k, v in pairs(thread:get("codes") or {}) do
         total_codes[k] = (total_codes[k] or 0) + v
      end
   end
   for k, v in pairs(total_status) do
      io.write(string.format("WRKSTAT status %s %d\n", k, v))
   end
   for k, v in pairs(total_codes) do
      io.write(string.format("WRKSTAT code %s %d\n", k, v))
   end
   if paced then
      io.write(string.format("WRKSTAT paced %d %d\n", total_late, math.floor(total_max_lag)))
   end
   local e = summary.errors
   io.write(string.format("WRKSTAT requests %d\n", summary.requests))
   io.write(string.format("WRKSTAT duration_us %d\n", summary.duration))
   io.write(string.format("WRKSTAT errors %d %d %d %d %d\n", e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format("WRKSTAT latency_us %d %d %d\n",
      latency:percentile(50), latency:percentile(99), latency.max))
end
