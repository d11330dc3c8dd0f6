#!/usr/bin/env bash
# Runs regpull's whole test suite. Installs the Debian packages the tests drive
# (the real Distribution registry, skopeo, umoci, squashfs-tools, siftool,
# busybox-static, zstd, openssl, htpasswd) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A needs=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [umoci]=umoci
  [openssl]=openssl
  [htpasswd]=apache2-utils
  [man]=man-db
  [jq]=jq
  [flock]=util-linux
  [mksquashfs]=squashfs-tools
  [unsquashfs]=squashfs-tools
  [siftool]=siftool
  [zstd]=zstd
)
missing=()
for cmd in "${!needs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needs[$cmd]}")
done
# GNU time measures peak memory; `command -v time` would find the shell keyword.
[ -x /usr/bin/time ] || missing+=(time)
# The images run under chroot need a busybox with no shared libraries.
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if ((${#missing[@]})); then
  echo "scripts/test.sh: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Unit and integration tests. Doctests (there are none) and the demo example
# (which has no tests) are left out so that an empty run is never the closing
# line; clippy still compiles every target.
cargo test --locked --lib --bins --tests "$@"
