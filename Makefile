# vggsim — build, test, benchmark.
GO ?= go

.PHONY: all build test check fmtcheck bench bench-go bench-codegen benchcmp fuzz deps torch-check onnx-testdata onnx-check

all: build test

build:
	$(GO) build ./...

# The test command the README gives and CI runs: installs what a fresh Debian machine
# lacks, then vets and runs every test.
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

# Tools and system packages the tests need: Go, and clang for the code generation tests
# (any clang-14 … clang-30 or clang on PATH; else clang-19 from apt, as root or with sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo)
deps:
	@command -v $(GO) >/dev/null || { echo "Go is required (https://go.dev/dl)"; exit 1; }
	@for n in $$(seq 30 -1 14); do command -v clang-$$n >/dev/null && exit 0; done; \
	 command -v clang >/dev/null && exit 0; \
	 echo "installing clang-19 for the code generation tests"; \
	 $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-19 >/dev/null

# gofmt, vet, and staticcheck when installed (go install honnef.co/go/tools/cmd/staticcheck@latest).
check: fmtcheck
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi

# Fails, listing them, when files need gofmt. Plain POSIX sh: on Debian /bin/sh is dash,
# where `(! read)` always succeeds (read needs a variable name there); tools/makecheck
# tests this target under dash.
fmtcheck:
	@unformatted=$$(gofmt -l .) || exit 1; \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:" >&2; echo "$$unformatted" >&2; exit 1; fi

# Benchmarks: the Go benchmarks, 6 runs each so benchstat can compare two runs made on the
# same machine, then the generated code's speed (vggsim bench: deploy and train form, per
# thread count; needs only clang, no peer runtime):
#   make bench > old.txt; (change); make bench > new.txt; make benchcmp OLD=old.txt NEW=new.txt
#   make bench-codegen BENCH_MODELS="RepVGG-A0 ResNet-50" BENCH_THREADS="1 2"
# The side-by-side table with oneDNN, ONNX Runtime and PyTorch is bench/compare.py.
BENCH_MODELS ?= RepVGG-A0
BENCH_THREADS ?= 1 2
BENCH_RUNS ?= 20
bench: bench-go bench-codegen

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./...

bench-codegen: deps
	$(GO) build -o $${TMPDIR:-/tmp}/vggsim-bench ./cmd/vggsim
	@for m in $(BENCH_MODELS); do for t in $(BENCH_THREADS); do \
	  echo "== vggsim bench $$m --threads $$t --runs $(BENCH_RUNS) --form both (load average $$(cut -d' ' -f1 /proc/loadavg))"; \
	  $${TMPDIR:-/tmp}/vggsim-bench bench $$m --threads $$t --runs $(BENCH_RUNS) --form both || exit 1; \
	done; done

OLD ?= old.txt
NEW ?= new.txt
benchcmp:
	$(GO) run golang.org/x/perf/cmd/benchstat@latest $(OLD) $(NEW)

# A fuzzing pass over every parser (FUZZTIME each). Crashers land in the package's
# testdata/fuzz and become regression cases of `make test`.
FUZZTIME ?= 30s
FUZZ = $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s -fuzz
fuzz:
	$(FUZZ) '^FuzzParse$$' ./ir
	$(FUZZ) '^FuzzParseSpec$$' ./models
	$(FUZZ) '^FuzzParse$$' ./hw
	$(FUZZ) '^FuzzQuantity$$' ./hw
	$(FUZZ) '^FuzzReadConfig$$' ./scalesim
	$(FUZZ) '^FuzzReadTopology$$' ./scalesim
	$(FUZZ) '^FuzzTopologyLimit$$' ./scalesim
	$(FUZZ) '^FuzzLoadPTH$$' ./checkpoint
	$(FUZZ) '^FuzzSafetensors$$' ./checkpoint
	$(FUZZ) '^FuzzRead$$' ./onnx
	$(FUZZ) '^FuzzPickle$$' ./checkpoint
	$(FUZZ) '^FuzzPickleBudget$$' ./checkpoint
	$(FUZZ) '^FuzzZipContainer$$' ./checkpoint
	$(FUZZ) '^FuzzRead$$' ./internal/npy

# The deploy export checked against real PyTorch (tools/torchcheck/check.py): our .pth loads
# with load_state_dict(strict=True) into the reference deploy model, equals the reference's
# own conversion bit for bit, and computes the same logits. Needs PyTorch (Debian:
# apt-get install python3-torch); not part of `make test`.
PYTHON ?= /usr/bin/python3
torch-check:
	$(GO) build -o $${TMPDIR:-/tmp}/vggsim-torchcheck ./cmd/vggsim
	$(PYTHON) tools/torchcheck/check.py --vggsim $${TMPDIR:-/tmp}/vggsim-torchcheck

# Regenerates the PyTorch-exported ONNX test data and the timm-named checkpoint (needs
# Debian's python3-torch and python3-onnx; the tests themselves do not).
onnx-testdata:
	/usr/bin/python3 tools/onnxgen/gen.py

# Exported ONNX under ONNX Runtime: zoo models (train and deploy, seeded weights) written by
# tools/onnxcheck, run by npm's onnxruntime-node in a scratch directory, compared with
# interp (1e-5). Needs node and npm; not part of `make test`.
ONNXCHECK_DIR ?= /tmp/vggsim-onnxcheck
onnx-check:
	$(GO) run ./tools/onnxcheck -o $(ONNXCHECK_DIR) RepVGG-A0 RepVGG-B1g4 ResNet-18 ResNet-50 models/testdata/se_small.yaml
	cd $(ONNXCHECK_DIR) && { [ -d node_modules/onnxruntime-node ] || ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node; }
	cd $(ONNXCHECK_DIR) && node $(CURDIR)/tools/onnxcheck/check.mjs *.onnx
