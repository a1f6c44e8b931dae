-- wrk reports p50/p75/p90/p99; the bench wants p95 too. Prints one parseable line.
done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
