#!/usr/bin/env bash
# Measures parsecwire decode/validate side by side with cat on the same files, in one run:
# throughput on raw captures of 64 KiB-body frames and of header-only frames, on a stream of
# magic numbers and on a stream of headers announcing a header size of 65535; then peak RSS
# (/usr/bin/time -v) for 20 MB and 2 GB inputs in every format, from a file and from stdin.
#
#   testdata/bench/run.sh [DIR]          # DIR: where the inputs go (default /tmp/parsecwire-bench)
#   SPEED_SIZE=1G RSS_SIZES="20M 2G" RUNS=3 testdata/bench/run.sh
#
# Throughput is the best of RUNS runs (page cache warm). Run it on a quiet machine: other
# processes on the same cores lower every figure but cat's the least.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/parsecwire-bench}
speed_size=${SPEED_SIZE:-1G}
slow_size=${SLOW_SIZE:-200M}
rss_sizes=${RSS_SIZES:-20M 2G}
runs=${RUNS:-3}
mkdir -p "$dir"
if [[ ! -x /usr/bin/time ]]; then
  echo "installing GNU time for peak RSS" >&2
  (apt-get update -qq && apt-get install -y -qq time) >/dev/null
fi
go build -o "$dir/parsecwire" ./cmd/parsecwire
pw=$dir/parsecwire
gen() { # gen KIND SIZE FILE
  [[ -s $3 ]] || go run testdata/bench/gen.go "$1" "$2" > "$3"
}

# best CMD...: the shortest wall time of $runs runs in milliseconds, and the CPU time (user +
# system, ms) of that run: on a shared machine the CPU time says more than the wall time.
best() {
  local best=0 cpu=0 s e t c
  for ((i = 0; i < runs; i++)); do
    s=$(date +%s%N)
    /usr/bin/time -o "$dir/cpu" -f '%U %S' "$@" > /dev/null 2>&1 || true
    e=$(date +%s%N)
    t=$(((e - s) / 1000000))
    c=$(awk '{printf "%d", ($1 + $2) * 1000}' "$dir/cpu")
    if ((best == 0 || t < best)); then best=$t cpu=$c; fi
  done
  ((best == 0)) && best=1
  echo "$best $cpu"
}

frames_of() { # the frame count of validate -json's summary
  { "$pw" validate -json "$1" 2>/dev/null || true; } | tail -n 1 | sed 's/.*"frames":\([0-9]*\).*/\1/'
}

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3-4)"
echo "== throughput (best of $runs, page cache warm)"
printf '%-10s %-14s %8s %8s %10s %12s %9s\n' input command ms cpu-ms MB/s frames/s "vs cat"
for kind in raw64k raw0 magic hs65535; do
  size=$speed_size
  [[ $kind == magic || $kind == hs65535 ]] && size=$slow_size
  f=$dir/$kind.bin
  gen "$kind" "$size" "$f"
  bytes=$(stat -c %s "$f")
  frames=$(frames_of "$f")
  read -r cat_ms cat_cpu < <(best cat "$f")
  for cmd in cat validate "decode -json"; do
    case $cmd in
      cat) ms=$cat_ms cpu=$cat_cpu ;;
      *) read -r ms cpu < <(best "$pw" $cmd "$f") ;;
    esac
    awk -v k="$kind" -v c="$cmd" -v ms="$ms" -v cpu="$cpu" -v b="$bytes" -v n="$frames" -v cm="$cat_ms" 'BEGIN {
      printf "%-10s %-14s %8d %8d %10.0f %12.0f %9.2f\n", k, c, ms, cpu, b / 1e6 / (ms / 1000), (c == "cat" ? 0 : n / (ms / 1000)), cm / ms }'
  done
done

echo "== peak RSS (MB), validate; stdin: the same file through a pipe"
printf '%-8s %-6s %10s %10s %10s %4s\n' format size file stdin seconds exit
for size in $rss_sizes; do
  for kind in raw hex base64 mock xxd; do
    gk=$kind
    [[ $kind == raw ]] && gk=raw64k
    f=$dir/rss-$size.$kind
    gen "$gk" "$size" "$f"
    s=$(date +%s%N)
    rc=0
    /usr/bin/time -o "$dir/rss" -f %M "$pw" validate -format "$kind" "$f" > /dev/null 2>&1 || rc=$?
    e=$(date +%s%N)
    file_kb=$(tail -n 1 "$dir/rss")
    cat "$f" | /usr/bin/time -o "$dir/rss" -f %M "$pw" validate -format "$kind" > /dev/null 2>&1 || true
    pipe_kb=$(tail -n 1 "$dir/rss")
    awk -v k="$kind" -v z="$size" -v a="$file_kb" -v p="$pipe_kb" -v t="$(((e - s) / 1000000))" -v rc="$rc" 'BEGIN {
      printf "%-8s %-6s %10.1f %10.1f %10.1f %4d\n", k, z, a / 1024, p / 1024, t / 1000, rc }'
    [[ $size == 2G ]] && rm -f "$f"
  done
done
