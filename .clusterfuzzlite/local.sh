#!/usr/bin/env bash
# The OSS-Fuzz build of parsecwire, run here without Docker: .clusterfuzzlite/build.sh in a
# scratch copy of the tree, with a compile_native_go_fuzzer that does what OSS-Fuzz's does
# (go-118-fuzz-build turns a native target into an archive, clang links it with libFuzzer),
# then each libFuzzer binary on its seed corpus for a while. A finding fails the run.
#
#   .clusterfuzzlite/local.sh [-time SECONDS] [-out DIR] [FuzzX...] [-- LIBFUZZER-FLAGS...]
#
#   -time  seconds per target (default 5; 0 builds and runs the seeds only)
#   -out   keep binaries, seeds, corpora and findings here (default: a temporary directory,
#          removed at the end when nothing was found); the corpus grows across runs
#   FuzzX  only these targets (default: every fuzz_target line of build.sh)
#   --     flags for libFuzzer, e.g. -- -fork=2 for a long campaign on two cores
#
# It installs what is missing: clang and the libFuzzer runtime from Debian's apt (sudo when not
# root), and go-118-fuzz-build at the pinned version from the Go module proxy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# The go-118-fuzz-build that go install resolved as @latest on 2026-11-29; build.sh pins its
# testing shim to the same version.
tool=github.com/AdamKorcz/go-118-fuzz-build@v0.0.0-20250520111509-a70c2aa677fa

seconds=5 out="" keep=0 targets=() flags=()
while (($#)); do
  case $1 in
    -time) seconds=$2; shift 2 ;;
    -out) out=$2; keep=1; shift 2 ;;
    --) shift; flags=("$@"); break ;;
    -h|-help|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "local.sh: unknown flag $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

# The list, from build.sh: "DIR FuzzX" per line.
mapfile -t listed < <(sed -n 's/^fuzz_target \([^ ]*\) \(Fuzz[A-Za-z0-9_]*\)$/\1 \2/p' "$root/.clusterfuzzlite/build.sh")
((${#listed[@]})) || { echo "local.sh: no fuzz_target line in build.sh" >&2; exit 1; }
if ((${#targets[@]})); then
  for t in "${targets[@]}"; do
    printf '%s\n' "${listed[@]}" | grep -q " $t\$" || { echo "local.sh: $t is not in build.sh" >&2; exit 2; }
  done
fi

as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }

# libfuzzer_links: clang is there and links a target with -fsanitize=fuzzer.
libfuzzer_links() {
  command -v clang >/dev/null || return 1
  local d
  d=$(mktemp -d)
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' >"$d/t.c"
  clang -fsanitize=fuzzer "$d/t.c" -o "$d/t" >/dev/null 2>&1
  local rc=$?
  rm -rf "$d"
  return $rc
}

echo "== libFuzzer toolchain"
if ! libfuzzer_links; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  command -v clang >/dev/null || as_root apt-get install -y -q --no-install-recommends clang
  major=$(clang -dumpversion | cut -d. -f1)
  # Debian splits the sanitizer and libFuzzer runtimes out of clang from version 14 on.
  as_root apt-get install -y -q --no-install-recommends "libclang-rt-$major-dev"
  libfuzzer_links || { echo "local.sh: clang still cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi
clang --version | head -n 1

if [[ -z $out ]]; then out=$(mktemp -d /tmp/parsecwire-fuzz.XXXXXX); fi
mkdir -p "$out"/{bin,out,work,corpus,seeds,findings}
out=$(cd "$out" && pwd)
GOBIN="$out/bin" go install "$tool"
export PATH="$out/bin:$PATH"

# OSS-Fuzz's environment, and its compile_native_go_fuzzer reduced to what a native target
# needs: the archive from go-118-fuzz-build, linked by $CXX with the fuzzing engine.
export SRC="$out/src" OUT="$out/out" WORK="$out/work" CXX=clang++ CXXFLAGS="" LIB_FUZZING_ENGINE=-fsanitize=fuzzer SANITIZER=none
cat >"$out/bin/compile_native_go_fuzzer" <<'SH'
#!/usr/bin/env bash
# compile_native_go_fuzzer PACKAGE FUNCTION FUZZER
set -euo pipefail
go-118-fuzz-build -o "$WORK/$3.a" -func "$2" "$(go list -f '{{.Dir}}' "$1")"
$CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$WORK/$3.a" -o "$OUT/$3"
SH
chmod +x "$out/bin/compile_native_go_fuzzer"

# A fresh copy each time: go-118-fuzz-build rewrites the file that declares a target while it
# builds, and build.sh changes go.mod; neither may touch the work tree.
rm -rf "$SRC" && mkdir -p "$SRC/parsecwire"
tar -C "$root" --exclude=./.git --exclude=./fuzz/reference/target -cf - . | tar -C "$SRC/parsecwire" -xf -

echo "== build (.clusterfuzzlite/build.sh)"
start=$SECONDS
if ((${#targets[@]})); then
  # Only the chosen targets: build.sh with the other fuzz_target lines left out.
  grep -v '^fuzz_target [^ ]* Fuzz' "$root/.clusterfuzzlite/build.sh" >"$out/build.sh"
  for t in "${targets[@]}"; do grep "^fuzz_target [^ ]* $t\$" "$root/.clusterfuzzlite/build.sh" >>"$out/build.sh"; done
  bash "$out/build.sh"
else
  bash "$root/.clusterfuzzlite/build.sh"
fi
echo "built in $((SECONDS - start)) s: $(cd "$OUT" && ls | grep -v '\.zip$' | tr '\n' ' ')"

# The seed-form check: DecodeRaw against go-118-fuzz-build's own shim, now resolvable.
(cd "$SRC/parsecwire" && go test fuzz/corpus/shim_test.go)

echo "== run"
found=0
for line in "${listed[@]}"; do
  dir=${line% *} name=${line#* }
  if ((${#targets[@]})) && ! printf '%s\n' "${targets[@]}" | grep -qx "$name"; then continue; fi
  seeds="$out/seeds/$name" corpus="$out/corpus/$name" log="$out/$name.log"
  rm -rf "$seeds" && mkdir -p "$seeds" "$corpus"
  python3 -m zipfile -e "$OUT/${name}_seed_corpus.zip" "$seeds"
  args=(-artifact_prefix="$out/findings/$name-" -timeout=10 -print_final_stats=1)
  if ((seconds > 0)); then args+=(-max_total_time="$seconds"); else args+=(-runs=0); fi
  rc=0
  "$OUT/$name" "${args[@]}" "${flags[@]}" "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  if [[ -z $runs ]]; then # -fork: the parent prints progress lines, not the final stats
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    rate=$(sed -n 's/.*exec\/s:\? \([0-9]*\).*/\1/p' <<<"$last") # "exec/s N" in fork mode
  fi
  printf '%-18s %-16s %10s runs %8s exec/s  corpus %5d  seeds %4d' "$name" "$dir" "${runs:-?}" "${rate:-?}" \
    "$(ls "$corpus" | wc -l)" "$(ls "$seeds" | wc -l)"
  if ((rc != 0)) || compgen -G "$out/findings/$name-*" >/dev/null; then
    found=1
    echo "  FINDING (exit $rc), log $log:"
    grep -E 'panic|fatal|ERROR|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
    for f in "$out"/findings/"$name"-*; do
      [[ -e $f ]] && echo "    as a Go regression: go run ./fuzz/cmd/fuzzcorpus crasher $dir:$name $f"
    done
  else
    echo "  no finding"
  fi
done

if ((found)); then
  echo "local.sh: findings kept in $out" >&2
  exit 1
fi
if ((keep)); then echo "kept in $out"; else rm -rf "$out"; fi
