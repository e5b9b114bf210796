# bench-features: ingest vs raw JetStream publish, event freshness, online
# lookups (embedded and Redis) and rebuild by replay, side by side in one
# run. Writes bench/results/features.json and prints a table. Redis comes
# from PLINTH_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0).

.PHONY: bench-features
bench-features:
	$(GO) run ./bench/features --out bench/results

BENCHES += bench-features
