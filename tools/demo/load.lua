-- SPDX-License-Identifier: GPL-2.0-only
--
-- wrk script for the sloprobe demo shop (app.py), the same for both modes. Fixed request mix:
--
--   27%  GET  /items/{id}           80% of them among 200 popular items; 3% ask for ids that
--                                   do not exist (404)
--   20%  GET  /users/{id}/quota     users 1..2000; 5% of users are over quota (429)
--   15%  GET  /items?limit=&offset= a few page sizes, offsets up to 2000
--   15%  GET  /users/{id}/orders    users 1..2000
--   10%  GET  /health
--   10%  POST /orders               every 25th one reuses the previous Idempotency-Key (409)
--    3%  GET  /stats/daily
--
-- Each wrk thread seeds its own generator from its number, so a run sends the same sequence
-- of requests per thread. At the end the script prints what it sent and the status codes.
--
--   wrk -t2 -c16 -d20s -s load.lua http://127.0.0.1:8000

local ITEMS = 20000
local USERS = 2000
local HOT_ITEMS = 200 -- the popular items: ids ITEMS - HOT_ITEMS + 1 .. ITEMS, the newest
local OFFSETS = { 0, 0, 0, 0, 20, 20, 40, 60, 100, 500, 1000, 2000 }
local LIMITS = { 20, 20, 20, 50 }

-- kind name, share in percent (cumulative bounds are computed below)
local MIX = {
	{ "item", 27 },
	{ "quota", 20 },
	{ "list", 15 },
	{ "uorders", 15 },
	{ "health", 10 },
	{ "order", 10 },
	{ "stats", 3 },
}

local threads = {} -- main state only: the threads, for done()
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end

-- Per thread state. Globals, so that done() can read them with thread:get().
sent = {}
statuses = {}

local posts = 0
local last_key = nil
local key_prefix = ""
local bounds = {}

function init(args)
	math.randomseed(7919 * (tid or 1) + 17)
	key_prefix = string.format("demo-%d-%d-", os.time(), tid or 1)
	local acc = 0
	for i, m in ipairs(MIX) do
		acc = acc + m[2]
		bounds[i] = acc
		sent[m[1]] = 0
	end
end

local function pick(t)
	return t[math.random(#t)]
end

local function kind()
	local r = math.random(100)
	for i, b in ipairs(bounds) do
		if r <= b then
			return MIX[i][1]
		end
	end
	return MIX[#MIX][1]
end

function request()
	local k = kind()
	sent[k] = sent[k] + 1
	if k == "item" then
		local id
		local r = math.random()
		if r < 0.03 then
			id = ITEMS + math.random(1, 5000) -- not in the table: 404
		elseif r < 0.83 then
			id = ITEMS - HOT_ITEMS + math.random(1, HOT_ITEMS)
		else
			id = math.random(1, ITEMS)
		end
		return wrk.format("GET", "/items/" .. id)
	elseif k == "quota" then
		return wrk.format("GET", "/users/" .. math.random(1, USERS) .. "/quota")
	elseif k == "list" then
		local path = string.format("/items?limit=%d&offset=%d", pick(LIMITS), pick(OFFSETS))
		return wrk.format("GET", path)
	elseif k == "uorders" then
		return wrk.format("GET", "/users/" .. math.random(1, USERS) .. "/orders")
	elseif k == "health" then
		return wrk.format("GET", "/health")
	elseif k == "stats" then
		return wrk.format("GET", "/stats/daily")
	end
	posts = posts + 1
	local key
	if last_key ~= nil and posts % 25 == 0 then
		key = last_key -- a client retrying: 409
	else
		key = key_prefix .. posts
	end
	last_key = key
	local body = string.format('{"user_id":%d,"item_id":%d,"qty":%d}',
		math.random(1, USERS), math.random(1, ITEMS), math.random(1, 3))
	local headers = { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key }
	return wrk.format("POST", "/orders", headers, body)
end

-- Think time: each connection waits 0..THINK_MS ms (uniform) before its next request, like a
-- client doing something with the answer. The load is a closed loop either way; the pause
-- keeps the tuned service (which needs far less CPU per request) from saturating the machine,
-- so its latency shows the tuning rather than the run queue of a 2-core VM.
local THINK_MS = tonumber(os.getenv("DEMO_THINK_MS") or "") or 10

function delay()
	return math.random(0, THINK_MS)
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	local total_sent, by_kind, by_status = 0, {}, {}
	for _, t in ipairs(threads) do
		for k, n in pairs(t:get("sent") or {}) do
			by_kind[k] = (by_kind[k] or 0) + n
			total_sent = total_sent + n
		end
		for s, n in pairs(t:get("statuses") or {}) do
			by_status[s] = (by_status[s] or 0) + n
		end
	end
	io.write("Request mix (sent):\n")
	for _, m in ipairs(MIX) do
		local n = by_kind[m[1]] or 0
		local share = total_sent > 0 and 100 * n / total_sent or 0
		io.write(string.format("  %-8s %8d  %5.1f%%\n", m[1], n, share))
	end
	local codes, answered = {}, 0
	for s, n in pairs(by_status) do
		table.insert(codes, s)
		answered = answered + n
	end
	table.sort(codes)
	io.write("Status codes (answered):\n")
	for _, s in ipairs(codes) do
		local n = by_status[s]
		io.write(string.format("  %-8d %8d  %5.2f%%\n", s, n, 100 * n / answered))
	end
end
