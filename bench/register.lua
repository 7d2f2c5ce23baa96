-- wrk script for bench/registration.py: POST a registration with a unique
-- e-mail per request and count every response by status (and by the API's
-- error code for 4xx/5xx), across all wrk threads.
--
--   wrk -t2 -c16 -d10s -s bench/register.lua http://127.0.0.1:PORT -- PATH PREFIX [CONTACT PHONE_BASE]
--
-- PATH       the endpoint, e.g. /api/v1/ceremonies/1/registrations
-- PREFIX     makes the e-mails unique across wrk runs against the same ceremony
-- CONTACT    email (default) or phone
-- PHONE_BASE with phone: the first of this run's numbers, +7 701 xxx xx xx
--            (blocks of 500,000 apart; 200,000 a thread)
--
-- done() prints one line per counter, "WRKSTAT status 201 1234" or
-- "WRKSTAT code 409:ceremony_full 5", that bench/registration.py parses.

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
   for _, thread in ipairs(threads) do
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
   local e = summary.errors
   io.write(string.format("WRKSTAT requests %d\n", summary.requests))
   io.write(string.format("WRKSTAT duration_us %d\n", summary.duration))
   io.write(string.format("WRKSTAT errors %d %d %d %d %d\n", e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format("WRKSTAT latency_us %d %d %d\n",
      latency:percentile(50), latency:percentile(99), latency.max))
end
