#!/bin/bash -eu
# Builds every native Go fuzz target of parsecwire for ClusterFuzzLite / OSS-Fuzz, and writes
# each target's committed Go corpus (DIR/testdata/fuzz/FuzzX/) as the seed archive OSS-Fuzz
# takes from beside the binary ($OUT/FuzzX_seed_corpus.zip).
#
# This file is the one list of targets: .clusterfuzzlite/local.sh runs this same script
# without Docker (with its own compile_native_go_fuzzer), and fuzz/clusterfuzzlite_test.go
# checks that the fuzz_target lines below name every func FuzzX(f *testing.F) in the module,
# one line per target: the package directory (relative to the module root), then the target.
cd "$SRC/parsecwire"

# go-118-fuzz-build swaps "testing" for its shim in the file that declares the target, so the
# shim must resolve. The build runs in a throwaway copy (OSS-Fuzz's container, or local.sh's
# scratch tree): the go.mod this changes never reaches the repository.
go get github.com/AdamKorcz/go-118-fuzz-build/testing@v0.0.0-20250520111509-a70c2aa677fa
module=$(go list -m)
go build -o "$WORK/fuzzcorpus" ./fuzz/cmd/fuzzcorpus

# fuzz_target DIR FuzzX
fuzz_target() {
  local dir=$1 name=$2
  if [[ $(go list -f '{{.Name}}' "./$dir") == main ]]; then
    # The generated harness imports the target's package, and a main package cannot be
    # imported: in this throwaway copy it becomes a library named after its directory.
    sed -i "s/^package main\$/package $(basename "$dir")/" "$dir"/*.go
  fi
  compile_native_go_fuzzer "$module/$dir" "$name" "$name"
  "$WORK/fuzzcorpus" seeds -o "$OUT/${name}_seed_corpus.zip" "$dir/testdata/fuzz/$name"
}

fuzz_target fuzz FuzzHeaderDecode
fuzz_target fuzz FuzzDifferential
fuzz_target fuzz FuzzStream
fuzz_target fuzz FuzzStatus
fuzz_target fuzz FuzzRoundTrip
fuzz_target fuzz FuzzMutator
fuzz_target fuzz FuzzClient
fuzz_target wire FuzzScanner
fuzz_target wire/capture FuzzCapture
fuzz_target wire/capture FuzzStrace
fuzz_target wire/capture FuzzSocat
fuzz_target wire/capture FuzzPcap
fuzz_target operation FuzzBody
