# bench-mf: Plinth's matrix factorization against peers (see bench/mf/README.md).
# Writes bench/results/mf.json and bench/results/ials.json and prints tables.
PYTHON_SYS ?= /usr/bin/python3

.PHONY: bench-mf
bench-mf:
	@$(PYTHON_SYS) -c 'import numba' 2>/dev/null || (apt-get update && apt-get install -y python3-numba)
	$(GO) run ./bench/mf --python $(PYTHON_SYS) --peer bench/peers/numba_mf.py --out bench/results

BENCHES += bench-mf
