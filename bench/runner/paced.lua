-- Appended to report.lua for paced runs: each connection waits a random
-- 0 to 2 x pace_ms (the second argument after `--`) before each request, so
-- the connections offer a steady load together instead of bursts.
function delay()
  return math.random(0, 2 * pace_ms)
end
