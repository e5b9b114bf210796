# bench-elec2: Plinth's closed loop on elec2 (real concept drift) against
# XGBoost references, in one run. Writes bench/results/elec2.json and
# prints a table. See bench/elec2/README.md.
PLINTH_DATASETS ?= $(abspath ../shared/datasets)
BENCH_ELEC2_PYTHON ?= /usr/bin/python3

.PHONY: bench-elec2 bench-elec2-peers
# Debian's XGBoost 1.7, installed only when missing.
bench-elec2-peers:
	@$(BENCH_ELEC2_PYTHON) -c 'import xgboost' 2>/dev/null || apt-get install -y python3-xgboost

bench-elec2: bench-elec2-peers
	PLINTH_DATASETS=$(PLINTH_DATASETS) $(GO) run ./bench/elec2 -python $(BENCH_ELEC2_PYTHON) -out bench/results/elec2.json

BENCHES += bench-elec2
