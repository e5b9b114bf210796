# Plinth developer tasks. `make test` is what CI runs; `make bench` runs every
# peer benchmark (each bench/<name>/bench.mk adds a bench-<name> target and
# appends it to BENCHES).
GO      ?= go
BENCHES :=

.PHONY: all build test lint bench proto
all: build

build:
	$(GO) build -o bin/plinth ./cmd/plinth

test:
	$(GO) test -race ./...

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...

-include bench/*/bench.mk

bench: $(BENCHES)

# Regenerate the protobuf code (committed). Needs Debian's protoc
# (apt-get install protobuf-compiler); the Go plugins are pinned tools in go.mod.
PROTO_FILES := $(shell find api/proto -name '*.proto')
proto:
	rm -rf api/gen
	protoc -I api/proto -I /usr/include \
	  --plugin=protoc-gen-go=$$($(GO) tool -n protoc-gen-go) \
	  --plugin=protoc-gen-go-grpc=$$($(GO) tool -n protoc-gen-go-grpc) \
	  --go_out=. --go_opt=module=github.com/plinthai/plinth \
	  --go-grpc_out=. --go-grpc_opt=module=github.com/plinthai/plinth \
	  $(PROTO_FILES)
