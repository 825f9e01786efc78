-- wrk script of the dashboard benchmark (bench/load.py, wrk_load): every request carries
-- the logged-in session's cookie; at the end the latency histogram is printed as
-- "LATENCY <microseconds> <count>" lines, and the totals as "TOTALS <ok> <errors>".
local cookie = os.getenv("BENCH_COOKIE") or ""
local statuses = {}

request = function()
  return wrk.format("GET", nil, { ["Cookie"] = cookie, ["Host"] = "127.0.0.1" })
end

response = function(status, headers, body)
  if status ~= 200 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end

done = function(summary, latency, requests)
  -- latency(i): the i-th distinct latency recorded (microseconds) and how often.
  for i = 1, #latency do
    local us, count = latency(i)
    io.write(string.format("LATENCY %d %d\n", us, count))
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("TOTALS %d %d\n", summary.requests - summary.errors.status, errors))
end
