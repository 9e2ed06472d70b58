-- wrk script for npm run bench:http: POST /v1/actors/Counter/k<n>/add with body [1],
-- keys round-robin over 1000 (the same requests autocannon sends).
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/v1/actors/Counter/k" .. (n % 1000) .. "/add", { ["content-type"] = "application/json" }, "[1]")
end
