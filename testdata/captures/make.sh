#!/usr/bin/env bash
# Remakes the capture samples in this folder from real traffic: the sample client
# (./client, valid requests on three connections) against `parsecwire serve -keep-alive`.
#
#   client.strace    strace -f -xx -yy of the client (a pid column: strace -o)
#   service.strace   strace -f -xx -yy -tt -T of the service ([pid N] prefixes: strace on stderr)
#   socat.log        socat -x -v of the same traffic through a socat proxy
#   tcp.pcap         the traffic bridged over TCP on lo, captured by tcpdump (pcap)
#   tcp.pcapng       the same, captured by tshark -F pcapng
#
# Needs: go, strace, socat, tcpdump, tshark (Debian: apt-get install strace socat tcpdump tshark),
# and root (or the capture capabilities) for tcpdump and tshark. Run from anywhere:
#   bash testdata/captures/make.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Static binaries: no dynamic loader reading libraries into the traces.
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/parsecwire" ./cmd/parsecwire &&
  CGO_ENABLED=0 go build -o "$work/client" ./testdata/captures/client)

wait_for() { for _ in $(seq 100); do [[ -e $1 ]] && return 0; sleep 0.05; done; echo "no $1" >&2; exit 1; }
# A background job of a script ignores SIGINT; serve handles it all the same (Go's
# signal.Notify re-enables it), the other tools stop on SIGTERM.
stop() { kill -"${2:-TERM}" "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# Only the calls a capture reader needs: data, connection and thread calls.
calls=%network,%process,read,write,readv,writev,close

# 1. The client, traced: strace -o writes a pid column.
"$work/parsecwire" serve -socket "$work/parsec.sock" -keep-alive -quiet 2>/dev/null &
serve=$!; pids+=("$serve")
wait_for "$work/parsec.sock"
strace -f -xx -yy -s 65536 -e trace=$calls -o "$here/client.strace" \
  "$work/client" -socket "$work/parsec.sock" >/dev/null
stop "$serve" INT

# 2. The service, traced: strace on stderr writes [pid N] prefixes. The service's own stderr
# goes to /dev/null through sh, so that it does not mix with strace's lines.
rm -f "$work/parsec.sock"
strace -f -xx -yy -tt -T -s 65536 -e trace=$calls \
  sh -c "exec \"$work/parsecwire\" serve -socket \"$work/parsec.sock\" -keep-alive -quiet 2>/dev/null" \
  2>"$here/service.strace" &
traced=$!; pids+=("$traced")
wait_for "$work/parsec.sock"
"$work/client" -socket "$work/parsec.sock" >/dev/null
sleep 0.2
# Stop the service itself (strace's child, the pid sh exec'd into): strace then ends with it.
stop "$(pgrep -P "$traced")" INT
wait "$traced" 2>/dev/null || true

# 3. socat -x -v as a proxy between the client and the service.
rm -f "$work/parsec.sock"
"$work/parsecwire" serve -socket "$work/parsec.sock" -keep-alive -quiet 2>/dev/null &
serve=$!; pids+=("$serve")
wait_for "$work/parsec.sock"
socat -x -v UNIX-LISTEN:"$work/proxy.sock",fork UNIX-CONNECT:"$work/parsec.sock" 2>"$here/socat.log" &
proxy=$!; pids+=("$proxy")
wait_for "$work/proxy.sock"
"$work/client" -socket "$work/proxy.sock" >/dev/null
sleep 0.2
stop "$proxy"

# 4. The same traffic over TCP on lo: client -> UNIX-LISTEN -> TCP:127.0.0.1:PORT ->
# TCP-LISTEN:PORT -> the service's Unix socket; captured by tcpdump (pcap) and tshark (pcapng).
port=47001
socat TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"$work/parsec.sock" &
back=$!; pids+=("$back")
socat UNIX-LISTEN:"$work/tcp.sock",fork TCP:127.0.0.1:$port &
front=$!; pids+=("$front")
wait_for "$work/tcp.sock"
tcpdump -i lo -s 0 -U -w "$work/tcp.pcap" "tcp port $port" 2>"$work/tcpdump.err" &
dump=$!; pids+=("$dump")
tshark -i lo -F pcapng -w "$work/tcp.pcapng" -f "tcp port $port" 2>"$work/tshark.err" &
shark=$!; pids+=("$shark")
for _ in $(seq 200); do
  grep -q "listening on" "$work/tcpdump.err" && grep -q "Capture started" "$work/tshark.err" && break
  sleep 0.1
done
sleep 0.5
"$work/client" -socket "$work/tcp.sock" >/dev/null
sleep 1
stop "$dump"
stop "$shark"
# tshark writes its file through a temporary one as root: copy, not move.
cp "$work/tcp.pcap" "$work/tcp.pcapng" "$here/"
chmod 644 "$here"/*.strace "$here"/socat.log "$here"/tcp.pcap "$here"/tcp.pcapng
ls -l "$here"
