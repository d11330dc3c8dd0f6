#!/usr/bin/env bash
# Demo with no internet: starts a loopback Distribution registry with token auth,
# pushes a small multi-platform image into it, and pulls it with regpull into
# ./demo-oci (or the directory given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-registry >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends docker-registry
fi
cargo build --release --locked --bin regpull --example demo
exec target/release/examples/demo "${1:-demo-oci}"
