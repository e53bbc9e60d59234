-- SPDX-License-Identifier: GPL-2.0-only
-- wrk script: exactly WRK_REQUESTS responses per thread (one connection each), then stop.
local limit = tonumber(os.getenv("WRK_REQUESTS") or "10")
local done = 0
local path = os.getenv("WRK_PATH") or "/"

request = function()
	return wrk.format("GET", path)
end

response = function(status, headers, body)
	done = done + 1
	if done >= limit then
		wrk.thread:stop()
	end
end
