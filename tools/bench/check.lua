-- wrk script for `make bench`: checks every response of a run instead of
-- timing it. Each must be 200, must not close the connection (keep-alive),
-- and its body must be the bytes in $BENCH_EXPECT (when set). done() prints
-- one line: "checked N ok N close N status N body N".
-- With $BENCH_BODIES (a file of request bodies, one a line) and
-- $BENCH_METHOD, the requests cycle through those bodies instead.
local threads = {}
local expect = nil
local f = os.getenv("BENCH_EXPECT")
if f and f ~= "" then
  local h = assert(io.open(f, "rb"))
  expect = h:read("*a")
  h:close()
end
local bodies = {}
local bf = os.getenv("BENCH_BODIES")
if bf and bf ~= "" then
  for line in io.lines(bf) do table.insert(bodies, line) end
end
local method = os.getenv("BENCH_METHOD") or "GET"

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n, ok, close, status, badbody, i = 0, 0, 0, 0, 0, 0
end

function request()
  if #bodies == 0 then return wrk.format(method) end
  i = i % #bodies + 1
  return wrk.format(method, nil, nil, bodies[i])
end

function response(st, headers, body)
  n = n + 1
  local good = true
  if st ~= 200 then status = status + 1; good = false end
  for k, v in pairs(headers) do
    if string.lower(k) == "connection" and string.lower(v) == "close" then
      close = close + 1; good = false
    end
  end
  if expect and body ~= expect then badbody = badbody + 1; good = false end
  if good then ok = ok + 1 end
end

function done(summary, latency, requests)
  local t = {n = 0, ok = 0, close = 0, status = 0, badbody = 0}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format("checked %d ok %d close %d status %d body %d connect_errors %d read_write_timeout_errors %d\n",
    t.n, t.ok, t.close, t.status, t.badbody, e.connect, e.read + e.write + e.timeout))
end
