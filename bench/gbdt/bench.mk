# bench-gbdt: Plinth's gradient-boosted trees against XGBoost 1.7 (Debian's
# python3-xgboost), side by side in one run. See bench/gbdt/README.md.
# Writes bench/results/gbdt.json and prints a table.
GBDT_PYTHON ?= /usr/bin/python3
GBDT_FLAGS  ?=

.PHONY: bench-gbdt bench-gbdt-peer
bench-gbdt-peer:
	@$(GBDT_PYTHON) -c 'import xgboost, sklearn' 2>/dev/null || \
		(apt-get install -y python3-xgboost python3-sklearn && $(GBDT_PYTHON) -c 'import xgboost, sklearn')

bench-gbdt: bench-gbdt-peer
	$(GO) run ./bench/gbdt --python $(GBDT_PYTHON) $(if $(PLINTH_DATASETS),--datasets $(PLINTH_DATASETS)) $(GBDT_FLAGS)

BENCHES += bench-gbdt
