#!/usr/bin/env bash
# Builds the reference oracle (parsec-interface 0.27, the Rust crate the Parsec service is
# built on) offline from Debian's packaged crates. Idempotent: installs only what is missing,
# and cargo rebuilds only what changed. Prints the binary's path on its last line.
set -euo pipefail
cd "$(dirname "$0")"

need=()
[[ -d /usr/share/cargo/registry/parsec-interface-0.27.0 ]] || need+=(librust-parsec-interface-dev)
command -v cargo >/dev/null 2>&1 || need+=(cargo)
if ((${#need[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "reference: installing ${need[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
# Cargo.lock pins the crate versions Debian ships today; should an update of those packages
# replace one, resolve again against what is installed rather than fail.
if ! cargo build --release --offline --locked --quiet >&2 2>/dev/null; then
  echo "reference: Cargo.lock does not match the installed crates; resolving again" >&2
  cargo build --release --offline --quiet >&2
fi
echo "$PWD/target/release/parsecwire-reference"
