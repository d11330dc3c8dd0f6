#!/usr/bin/env bash
# Benchmark: regpull side by side with the tool people use today, in one run,
# each scenario one row of a table (wall time, CPU time user+sys and peak RSS
# from GNU time):
#   (a) BENCH_MIB MiB (default 1024) in BENCH_LAYERS (6) layers from a loopback
#       Distribution registry into a tmpfs layout, vs `skopeo copy`; each
#       twice, in turn, keeping its faster run
#   (b) the same onto the disk, vs `dd conv=fsync` of as many bytes on the same
#       filesystem (the floor for writing them durably); each twice, in turn,
#       keeping its faster run
#   (c) a BENCH_MIB MiB single-layer image whose blobs redirect to an object
#       store that sends at most BENCH_CAP_MB (40) MB/s per connection
#       (examples/bench_store.rs), vs `skopeo copy`; plus the bytes served
#   (d) 100 small layers, vs `skopeo copy`
#   (e) (a)'s image again, up to date, vs `skopeo copy` into the same layout
#   (f) a list of 20 small images, fresh then up to date
# then resume (examples/resume_bench.rs) and export (scripts/bench_export.sh).
# `push` runs the push table instead: (a)'s image from a layout to a fresh
# loopback registry, vs `skopeo copy oci:... docker://...` to another, fresh
# then up to date; and the registry's own ingest limit, every blob uploaded
# at once by curl (POST + PUT each).
#
#   scripts/bench.sh            # everything, at 1 GiB
#   BENCH_MIB=64 scripts/bench.sh pull    # the pull table only, quickly
#   scripts/bench.sh push       # the push table
#   scripts/bench.sh export     # only the export benchmark
#   scripts/bench.sh big        # one 8 GiB layer (BENCH_BIG_MIB): scripts/bench_big.sh
# timed and store set r_* and o_* by name; STORE_PID is coproc's; skopeo_list's
# script expands in the shell it starts.
# shellcheck disable=SC2154,SC2153,SC2016
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
  "" | pull | push | big) ;;
  export) exec scripts/bench_export.sh ;;
  *) echo "usage: scripts/bench.sh [pull|push|big|export]" >&2; exit 2 ;;
esac
MIB=${BENCH_MIB:-1024}
LAYERS=${BENCH_LAYERS:-6}
CAP_MB=${BENCH_CAP_MB:-40}

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/time ] || need+=(time)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # stdout is the report: apt's progress goes with the other progress, to stderr.
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
# The examples first: built with them (and their dev-dependencies' features),
# regpull would not be the binary users get.
cargo build -q --release --locked --example bench_store --example resume_bench
cargo build -q --release --locked --bin regpull
bin=${CARGO_TARGET_DIR:-$PWD/target}/release
REGPULL=$bin/regpull

# The disk: the registry's storage, (b)'s layout and dd's file. tmpfs: the rest.
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/regpull-bench.XXXXXX")
shm=$(mktemp -d /dev/shm/regpull-bench.XXXXXX)
reg_pid="" store_pid="" timed_pid="" push_pids=""
cleanup() {
  # The command being timed is GNU time's child: stop it, then time.
  [ -z "$timed_pid" ] || pkill -P "$timed_pid" 2>/dev/null || true
  for pid in $timed_pid $reg_pid $store_pid $push_pids; do kill "$pid" 2>/dev/null || true; done
  [ -z "$timed_pid" ] || wait "$timed_pid" 2>/dev/null || true
  rm -rf "$work" "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src Cargo.toml Cargo.lock || commit+=" + uncommitted changes to src"
disk_fs=$(df --output=fstype "$work" | tail -1)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
  "kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "disk: ${work%/*} on $disk_fs ($(df --output=source "$work" | tail -1)); tmpfs: /dev/shm"
echo "regpull $commit; $(skopeo --version); docker-registry $(docker-registry --version | awk '{print $NF}')"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); BENCH_MIB=$MIB BENCH_LAYERS=$LAYERS BENCH_CAP_MB=$CAP_MB"
echo

[ "$mode" = big ] || echo "building a ${MIB} MiB image in ${LAYERS} layers and one of 100 small layers..." >&2
# Images: NAME:LAYERS:MIN_BYTES:MAX_BYTES, each layer gzip -1 of random bytes
# (incompressible, so the registry serves about as many bytes as the layer holds).
[ "$mode" = big ] || python3 - "$work/src" "big:$LAYERS:$((MIB * 1048576 / LAYERS)):$((MIB * 1048576 / LAYERS))" \
  "small100:100:1024:65536" <<'PY'
import hashlib, json, os, random, subprocess, sys
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
rng, refs = random.Random(11), []
for spec in sys.argv[2:]:
    name, layers, low, high = spec.split(":")
    descs, diffs = [], []
    for _ in range(int(layers)):
        raw = os.urandom(rng.randint(int(low), int(high)))
        diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
        gz = subprocess.run(["gzip", "-1", "-c"], input=raw, capture_output=True, check=True).stdout
        descs.append(dict(put(gz), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"))
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                      "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                    "layers": descs}).encode()
    refs.append(dict(put(m), mediaType="application/vnd.oci.image.manifest.v1+json",
                     annotations={"org.opencontainers.image.ref.name": name}))
    # What a pull of this image writes, for dd to write as much.
    open(f"{root}/{name}.bytes", "w").write(str(len(m) + len(cfg) + sum(d["size"] for d in descs)))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{root}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": refs}))
PY

# (f)'s images: a list of 20 small ones.
[ "$mode" = big ] || python3 - "$work/small" <<'PY'
import hashlib, io, json, os, sys, tarfile, gzip
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
entries = []
for n in range(20):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = f"service {n}\n".encode() * 1000
        info = tarfile.TarInfo(f"srv/{n}.txt"); info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    layer = dict(put(gzip.compress(raw, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode()
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                    "layers": [layer]}).encode()
    entries.append(dict(put(m), mediaType="application/vnd.oci.image.manifest.v1+json",
                        annotations={"org.opencontainers.image.ref.name": f"svc{n}"}))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{root}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": entries}))
PY

cat > "$work/config.yml" <<YML
version: 0.1
log: {level: info, formatter: text}
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: 127.0.0.1:0}
YML
docker-registry serve "$work/config.yml" >/dev/null 2>"$work/registry.log" &
reg_pid=$!
host=""
for _ in $(seq 200); do
  host=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/registry.log" | head -1 | cut -d' ' -f3) || true
  [ -n "$host" ] && break
  kill -0 "$reg_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$host" ] || { echo "docker-registry did not start:" >&2; cat "$work/registry.log" >&2; exit 1; }
if [ "$mode" = "" ] || [ "$mode" = pull ]; then
  for name in big small100; do
    skopeo copy -q --dest-tls-verify=false "oci:$work/src:$name" "docker://$host/bench/$name:1"
  done
  : > "$work/images.txt"
  for n in $(seq 0 19); do
    skopeo copy -q --dest-tls-verify=false "oci:$work/small:svc$n" "docker://$host/prefetch/svc$n:1"
    echo "$host/prefetch/svc$n:1" >> "$work/images.txt"
  done
  echo "registry $host holds bench/big:1, bench/small100:1 and prefetch/svc0..19:1" >&2
fi

# mark VAR: sets VAR to the line of the registry's log that records a request
# made now. The registry logs each request once it has answered it, so a mark
# made after a client exits lands after every line of that client's requests;
# polled for, never waited for by the clock.
marks=0
mark() {
  marks=$((marks + 1))
  curl -fsS -o /dev/null "http://$host/v2/?mark=$marks"
  local at=""
  for _ in $(seq 400); do
    at=$(grep -n -F "uri=\"/v2/?mark=$marks\"" "$work/registry.log" | cut -d: -f1) || true
    [ -n "$at" ] && break
    sleep 0.05
  done
  [ -n "$at" ] || { echo "the registry never logged mark $marks" >&2; exit 1; }
  printf -v "$1" '%s' "$at"
}
# logged FROM TO: the registry's log lines of requests between two marks.
logged() {
  (($2 - $1 > 1)) || return 0
  sed -n "$(($1 + 1)),$(($2 - 1))p" "$work/registry.log" | grep 'response completed' || true
}
size() {
  awk "BEGIN { n = $1; if (n >= 1048576) printf \"%.1f MiB\", n / 1048576;
    else if (n >= 1024) printf \"%.1f KiB\", n / 1024; else printf \"%d B\", n }"
}

# timed PREFIX COMMAND...: runs COMMAND under GNU time, setting PREFIX_wall,
# PREFIX_cpu (user+sys, seconds), PREFIX_rss (MiB), PREFIX_from and PREFIX_to
# (marks around it in the registry's log) and PREFIX_served (the body bytes
# the registry sent meanwhile).
timed() {
  local prefix=$1; shift
  sync
  mark "${prefix}_from"
  # In the background, waited for: a signal to the script then runs its trap
  # at once, not when the command is done. Standard input stays ours.
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" <&0 >/dev/null 2>"$work/err.txt" &
  timed_pid=$!
  wait "$timed_pid" || { echo "failed: $*" >&2; cat "$work/err.txt" >&2; exit 1; }
  timed_pid=""
  mark "${prefix}_to"
  local wall user sys kib from=${prefix}_from to=${prefix}_to bytes
  read -r wall user sys kib < <(tail -1 "$work/time.txt")
  printf -v "${prefix}_wall" '%s' "$wall"
  printf -v "${prefix}_cpu" '%s' "$(awk "BEGIN { print $user + $sys }")"
  printf -v "${prefix}_rss" '%s' "$((kib / 1024))"
  # (The registry logs a HEAD's body as written, though none is sent.)
  bytes=$(logged "${!from}" "${!to}" | awk '!/http.request.method=HEAD/ &&
    match($0, /http.response.written=[0-9]+/) { s += substr($0, RSTART + 22, RLENGTH - 22) }
    END { print s + 0 }')
  printf -v "${prefix}_served" '%s' "$(size "$bytes")"
}
# keep TO FROM: TO_* take FROM_*'s figures unless TO already has a faster run.
keep() {
  local w=${1}_wall f=${2}_wall field
  if [ -n "${!w:-}" ] && awk "BEGIN { exit !(${!w} <= ${!f}) }"; then
    return 0
  fi
  for field in wall cpu rss served from to; do
    local src=${2}_$field
    printf -v "${1}_$field" '%s' "${!src}"
  done
}
# against_dd NAME REF BYTES: regpull pulling REF into $work/NAME-regpull and
# `dd conv=fsync` of BYTES into $work/NAME-dd, each twice, in turn, each
# output deleted after its run; r_* and o_* keep each one's faster run (why
# twice: at (b)).
against_dd() {
  unset r_wall o_wall
  for _ in 1 2; do
    timed t "$REGPULL" pull -q -o "$work/$1-regpull" "$2"
    rm -rf "$work/$1-regpull"
    keep r t
    timed t dd if=/dev/zero of="$work/$1-dd" bs=1M count="$3" iflag=count_bytes conv=fsync
    rm -f "$work/$1-dd"
    keep o t
  done
  o_served=-
}
ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2fx\", $1 / $2; else print \"-\" }"; }
rows=()
# row LABEL OTHER [NOTE]: a table row from r_* (regpull) and o_* (the other tool).
row() {
  local line
  line=$(printf '| %s | %.2f s | %.2f s | %d MiB | %s | %s | %.2f s | %.2f s | %d MiB | %s | %s | %s | %s |' \
    "$1" "$r_wall" "$r_cpu" "$r_rss" "$r_served" "$2" "$o_wall" "$o_cpu" "$o_rss" "$o_served" \
    "$(ratio "$r_wall" "$o_wall")" "$(ratio "$r_cpu" "$o_cpu")" "${3:-}")
  rows+=("$line")
  echo "$line" >&2
}
skopeo_from=(skopeo copy -q --src-tls-verify=false)
if [ "$mode" = push ]; then
  source scripts/bench_push.sh
  exit 0
fi
if [ "$mode" = big ]; then
  source scripts/bench_big.sh
  exit 0
fi

big=$host/bench/big:1
echo "(a) ${MIB} MiB in ${LAYERS} layers into tmpfs, each command twice, in turn" >&2
# Twice, keeping the faster run, as (b) below says why: the first command to
# fill a gigabyte of tmpfs pays the host for pages the guest had not touched.
unset r_wall o_wall
for _ in 1 2; do
  rm -rf "$shm/a-regpull" "$shm/a-skopeo"
  timed t "$REGPULL" pull -q -o "$shm/a-regpull" "$big"
  keep r t
  timed t "${skopeo_from[@]}" "docker://$big" "oci:$shm/a-skopeo:bench"
  keep o t
done
row "(a) ${MIB} MiB, ${LAYERS} layers → tmpfs" "skopeo copy"

echo "(b) the same onto the disk, each command twice, in turn" >&2
# Each command makes a gigabyte of new page cache. On a virtual machine a page
# the guest has not touched for a while costs the host a fault when touched
# (free memory is handed back to it), while the pages of a file just deleted
# are reused at once: whichever command ran right after the other's output
# was deleted would win. So each runs twice, in turn, and keeps its faster run.
against_dd b "$big" "$(cat "$work/src/big.bytes")"
row "(b) the same → disk ($disk_fs)" "dd conv=fsync"

echo "(c) ${MIB} MiB in one layer, redirected to a store capped at ${CAP_MB} MB/s per connection" >&2
coproc STORE { BENCH_MIB=$MIB BENCH_CAP_MB=$CAP_MB "$bin/examples/bench_store"; }
store_pid=$STORE_PID store_out=${STORE[0]} store_in=${STORE[1]}
redirected=""
read -r -t 600 redirected _ <&"$store_out" || true
[ -n "$redirected" ] || { echo "examples/bench_store did not start" >&2; exit 1; }
# store PREFIX: sets PREFIX_served to what the store sent since the last call,
# and PREFIX_store how: relative to the image, in how many answers on how many
# connections.
store() {
  echo >&"$store_in"
  local word="" bytes times answers connections
  read -r -t 60 word bytes times answers connections <&"$store_out" || true
  [ "$word" = served ] || { echo "examples/bench_store said: $word" >&2; exit 1; }
  printf -v "${1}_served" '%s' "$(size "$bytes")"
  printf -v "${1}_store" '%.2fx of the image, %d answer(s) on %d connection(s)' \
    "$times" "$answers" "$connections"
}
timed r "$REGPULL" pull -q -o "$shm/c-regpull" "$redirected"
store r
timed o "${skopeo_from[@]}" "docker://$redirected" "oci:$shm/c-skopeo:bench"
store o
exec {store_in}>&-
wait "$store_pid" || true
store_pid=""
rm -rf "$shm/c-regpull" "$shm/c-skopeo"
row "(c) ${MIB} MiB, 1 layer, 307 to a store capped at ${CAP_MB} MB/s per connection" "skopeo copy" \
  "the store sent regpull $r_store; skopeo $o_store"

echo "(d) 100 small layers" >&2
timed r "$REGPULL" pull -q -o "$shm/d-regpull" "$host/bench/small100:1"
timed o "${skopeo_from[@]}" "docker://$host/bench/small100:1" "oci:$shm/d-skopeo:bench"
row "(d) 100 small layers ($(($(cat "$work/src/small100.bytes") / 1024)) KiB) → tmpfs" "skopeo copy"

echo "(e) (a) again, up to date" >&2
timed r "$REGPULL" pull -q -o "$shm/a-regpull" "$big"
timed o "${skopeo_from[@]}" "docker://$big" "oci:$shm/a-skopeo:bench"
row "(e) (a) again, up to date" "skopeo copy"
rm -rf "$shm/a-regpull" "$shm/a-skopeo"

# skopeo copies one image per run: the same list as 20 runs of it, one after another.
skopeo_list=(bash -c 'while read -r ref; do n=${ref##*/}; "${@:2}" "docker://$ref" "oci:$1:${n%%:*}" </dev/null; done' _)
echo "(f) a list of 20 small images, fresh then up to date" >&2
timed r "$REGPULL" pull -q -o "$shm/f-regpull" -f "$work/images.txt"
timed o "${skopeo_list[@]}" "$shm/f-skopeo" "${skopeo_from[@]}" < "$work/images.txt"
row "(f) 20 small images from a list (-f) → tmpfs" "20 × skopeo copy"
timed r "$REGPULL" pull -q -o "$shm/f-regpull" -f "$work/images.txt"
requests=$(logged "$r_from" "$r_to" |
  { grep -o 'http.request.method=[A-Z]* [^ ]* http.request.uri=[^ ]*' || true; } |
  sed -E 's/http.request.method=([A-Z]+) .* http.request.uri="?([^" ]*)"?/\1 \2/' |
  sed -E 's#/v2/.+/manifests/.*#/v2/*/manifests/*#; s#/v2/.+/blobs/.*#/v2/*/blobs/*#' | sort | uniq -c)
timed o "${skopeo_list[@]}" "$shm/f-skopeo" "${skopeo_from[@]}" < "$work/images.txt"
row "(f) the same list, up to date" "20 × skopeo copy"
rm -rf "$shm/f-regpull" "$shm/f-skopeo"

echo "| scenario | regpull wall | CPU | peak RSS | served | against | wall | CPU | peak RSS | served | regpull/other wall | CPU | notes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "requests regpull made for the up-to-date list:"
echo "$requests"

[ "${1:-}" = pull ] && exit 0
# Resume: the fake registry stops sending every 100 MiB on every attempt.
BENCH_MIB=$MIB "$bin/examples/resume_bench"

# Export: a 1 GiB multi-layer image from a layout, against umoci (+ mksquashfs).
BENCH_LAYERS=6 scripts/bench_export.sh
