# bench/ml: Plinth's logistic regression and isolation forest against
# scikit-learn (side by side in one run), and drift statistics at scale.
# See bench/ml/README.md.
PLINTH_DATASETS ?= $(abspath ../shared/datasets)
BENCH_ML_PYTHON ?= /usr/bin/python3

.PHONY: bench-ml bench-linear bench-drift bench-ml-peers
bench-ml: bench-linear bench-drift

# Debian's scikit-learn, installed only when missing.
bench-ml-peers:
	@$(BENCH_ML_PYTHON) -c 'import sklearn, scipy' 2>/dev/null || apt-get install -y python3-sklearn

bench-linear: bench-ml-peers
	PLINTH_DATASETS=$(PLINTH_DATASETS) $(GO) run ./bench/ml -exp linear-iforest \
		-python $(BENCH_ML_PYTHON) -repeats 21 -seeds 5 -out bench/results/linear_iforest.json

bench-drift:
	$(GO) run ./bench/ml -exp drift -out bench/results/drift.json

BENCHES += bench-ml
