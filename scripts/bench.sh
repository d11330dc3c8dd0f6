#!/usr/bin/env bash
# Benchmark: pull a multi-layer image of BENCH_MIB MiB (default 1024) from a
# loopback Distribution registry with regpull and with `skopeo copy`, reporting
# wall time and peak RSS (GNU time), plus an up-to-date re-pull.
#
#   scripts/bench.sh            # 1 GiB in 8 layers, then the export benchmark
#   BENCH_MIB=4096 BENCH_LAYERS=16 scripts/bench.sh
#   scripts/bench.sh export     # only the export benchmark (scripts/bench_export.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = export ]; then
  exec scripts/bench_export.sh
fi
MIB=${BENCH_MIB:-1024}
LAYERS=${BENCH_LAYERS:-8}

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
[ -x /usr/bin/time ] || need+=(time)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
cargo build --release --locked --bin regpull >/dev/null
REGPULL=$PWD/target/release/regpull

work=$(mktemp -d)
trap 'kill $reg_pid 2>/dev/null || true; rm -rf "$work"' EXIT

echo "building a ${MIB} MiB image in ${LAYERS} layers..." >&2
python3 - "$work/src" "$MIB" "$LAYERS" <<'PY'
import hashlib, json, os, subprocess, sys
root, mib, layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{root}/blobs/sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
descs, diffs = [], []
per = mib * 1024 * 1024 // layers
for i in range(layers):
    # Incompressible content, gzip level 1: the registry serves ~MIB MiB in all.
    raw = os.urandom(per)
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    gz = subprocess.run(["gzip", "-1", "-c"], input=raw, capture_output=True, check=True).stdout
    descs.append(dict(put(gz), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"))
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                  "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                "layers": descs}).encode()
md = put(m)
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{root}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    dict(md, mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "bench"})]}))
PY

cat > "$work/config.yml" <<YML
version: 0.1
log: {level: info, formatter: text}
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: 127.0.0.1:0}
YML
docker-registry serve "$work/config.yml" >/dev/null 2>"$work/registry.log" &
reg_pid=$!
for _ in $(seq 200); do
  host=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/registry.log" | head -1 | cut -d' ' -f3) || true
  [ -n "${host:-}" ] && break
  sleep 0.05
done
[ -n "${host:-}" ] || { cat "$work/registry.log"; exit 1; }
skopeo copy -q --dest-tls-verify=false "oci:$work/src:bench" "docker://$host/bench/big:1"
echo "registry $host holds bench/big:1" >&2

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt"; exit 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
  printf '%-34s wall %8s   peak RSS %7d MiB\n' "$label" "$wall" $((rss / 1024))
}

sync
echo "image: $MIB MiB in $LAYERS layers, loopback registry, $(nproc) cores"
measure "regpull pull (fresh)" "$REGPULL" pull -q -o "$work/out-regpull" "$host/bench/big:1"
measure "regpull pull (up to date)" "$REGPULL" pull -q -o "$work/out-regpull" "$host/bench/big:1"
measure "skopeo copy docker:// -> oci:" skopeo copy -q --src-tls-verify=false \
  "docker://$host/bench/big:1" "oci:$work/out-skopeo:bench"

# Resume: the fake registry stops sending every 100 MiB on every attempt.
cargo build --release --locked --example resume_bench >/dev/null 2>&1
BENCH_MIB=$MIB target/release/examples/resume_bench

# Prefetch: a list of 20 small images, then the same list when all are up to date.
python3 - "$work/small" <<'PY'
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
: > "$work/images.txt"
for n in $(seq 0 19); do
  skopeo copy -q --dest-tls-verify=false "oci:$work/small:svc$n" "docker://$host/prefetch/svc$n:1"
  echo "$host/prefetch/svc$n:1" >> "$work/images.txt"
done
measure "regpull pull -f (20 images, fresh)" "$REGPULL" pull -q -o "$work/out-prefetch" -f "$work/images.txt"
# The registry logs a request after answering it: let the fresh run's lines land.
sleep 1
before=$(wc -l < "$work/registry.log")
measure "regpull pull -f (20, up to date)" "$REGPULL" pull -q -o "$work/out-prefetch" -f "$work/images.txt"
sleep 1
requests=$(tail -n +"$((before + 1))" "$work/registry.log" | grep 'response completed' |
  grep -o 'http.request.method=[A-Z]* [^ ]* http.request.uri=[^ ]*' |
  sed -E 's/http.request.method=([A-Z]+) .* http.request.uri="?([^" ]*)"?/\1 \2/' |
  sed -E 's#/v2/.+/manifests/.*#/v2/*/manifests/*#; s#/v2/.+/blobs/.*#/v2/*/blobs/*#' | sort | uniq -c)
echo "requests made by the up-to-date re-run:"
echo "$requests"

# Export: a 1 GiB multi-layer image from a layout, against umoci (+ mksquashfs).
BENCH_LAYERS=6 scripts/bench_export.sh
