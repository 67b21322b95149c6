-- SPDX-License-Identifier: Apache-2.0
-- Appended to every wrk script of bench/: one machine-readable line with the request count,
-- the errors (non-2xx included), p50 and p99 in microseconds.
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.1f %.1f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
