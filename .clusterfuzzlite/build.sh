#!/bin/bash -eu
# Builds every native Go fuzz target of parsecwire for ClusterFuzzLite / OSS-Fuzz.
# A test (fuzz/clusterfuzzlite_test.go) keeps these lists equal to the targets in fuzz/
# and cmd/parsecwire.
cd "$SRC/parsecwire"
targets=(
  FuzzHeaderDecode
  FuzzDifferential
  FuzzStream
  FuzzStatus
  FuzzRoundTrip
  FuzzMutator
)
for t in "${targets[@]}"; do
  compile_native_go_fuzzer github.com/parsecwire/parsecwire/fuzz "$t" "$t"
done
cli_targets=(
)
for t in "${cli_targets[@]}"; do
  compile_native_go_fuzzer github.com/parsecwire/parsecwire/cmd/parsecwire "$t" "$t"
done
compile_native_go_fuzzer github.com/parsecwire/parsecwire/wire/capture FuzzStrace FuzzStrace
compile_native_go_fuzzer github.com/parsecwire/parsecwire/wire/capture FuzzSocat FuzzSocat
compile_native_go_fuzzer github.com/parsecwire/parsecwire/wire/capture FuzzPcap FuzzPcap
compile_native_go_fuzzer github.com/parsecwire/parsecwire/wire FuzzScanner FuzzScanner
