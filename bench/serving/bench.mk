# bench-serving: the inference service against bare net/http, bare grpc-go
# and FastAPI + XGBoost, side by side (bench/serving/run.sh). Writes
# bench/results/serving.json and prints a table.
.PHONY: bench-serving
bench-serving:
	bench/serving/run.sh

BENCHES += bench-serving
