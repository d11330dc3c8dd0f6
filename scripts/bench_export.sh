#!/usr/bin/env bash
# Export benchmark: a BENCH_MIB MiB (default 1024) image in BENCH_LAYERS
# layers (default 6), already in a layout, made of what real images hold: many
# small compressible files and fewer large incompressible ones. Side by side in
# one run, on the same filesystem, page cache flushed before each:
#   regpull export --format rootfs    vs  umoci unpack
#   regpull export --format squashfs  vs  umoci unpack + mksquashfs (same flags)
# Wall time and peak RSS from GNU time. Run by scripts/bench.sh, or alone.
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${BENCH_MIB:-1024}
LAYERS=${BENCH_LAYERS:-6}

need=()
command -v umoci >/dev/null || need+=(umoci)
command -v mksquashfs >/dev/null || need+=(squashfs-tools)
[ -x /usr/bin/time ] || need+=(time)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
cargo build --release --locked --bin regpull >/dev/null
REGPULL=${CARGO_TARGET_DIR:-$PWD/target}/release/regpull

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/regpull-bench.XXXXXX")
# BENCH_KEEP=1 keeps the image (and the outputs) for a closer look.
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

echo "building a ${MIB} MiB image in ${LAYERS} layers..." >&2
python3 - "$work/oci" "$MIB" "$LAYERS" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile, zlib
root, mib, layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{root}/blobs/sha256")
rng = random.Random(42)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(4000)]
def text(n):  # compressible, like sources, scripts, configs, docs
    out, size = [], 0
    while size < n:
        w = rng.choice(words); out.append(w); size += len(w) + 1
    return b" ".join(out)[:n]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
descs, diffs = [], []
per = mib * 1024 * 1024 // layers
for l in range(layers):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        size, n = 0, 0
        for d in range(40):
            info = tarfile.TarInfo(f"layer{l}/dir{d}"); info.type = tarfile.DIRTYPE; info.mode = 0o755
            t.addfile(info)
        while size < per:
            if n % 50 == 49:   # now and then a big incompressible one (libraries, wheels, models)
                data = os.urandom(rng.randint(1 << 20, 16 << 20))
            else:
                data = text(rng.randint(512, 96 << 10))
            data = data[: max(0, per - size)] or b"x"
            info = tarfile.TarInfo(f"layer{l}/dir{n % 40}/file{n}"); info.size = len(data); info.mode = 0o644
            t.addfile(info, io.BytesIO(data)); size += len(data); n += 1
    raw = buf.getvalue()
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    descs.append(dict(put(gzip.compress(raw, compresslevel=6, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"))
    print(f"  layer {l}: {n} files, {len(raw) >> 20} MiB", file=sys.stderr)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                  "config": {"Cmd": ["/bin/sh"]},
                  "history": [{"created": "2024-01-01T00:00:00Z"} for _ in diffs],
                  "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                "layers": descs}).encode()
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{root}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    dict(put(m), mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "docker.io/library/bench:1"})]}))
PY

flush() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi; }
measure() { # label, command...
  local label=$1; shift
  flush
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt"; exit 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
  printf '%-44s wall %8s   peak RSS %7d MiB\n' "$label" "$wall" $((rss / 1024))
}

fs=$(df -T "$work" | awk 'NR==2 {print $2}')
echo "export: $MIB MiB in $LAYERS layers already in the layout, $(nproc) cores, $fs"
measure "regpull export --format rootfs" "$REGPULL" export -q -l "$work/oci" --pull never \
  docker.io/library/bench:1 -o "$work/rootfs" --format rootfs
measure "umoci unpack" umoci unpack --image "$work/oci:docker.io/library/bench:1" "$work/umoci"
rm -rf "$work/rootfs" "$work/umoci"
measure "regpull export --format squashfs (gzip)" "$REGPULL" export -q -l "$work/oci" --pull never \
  docker.io/library/bench:1 -o "$work/regpull.sqsh"
# The same mksquashfs flags regpull passes.
measure "umoci unpack + mksquashfs (gzip)" bash -c '
  umoci unpack --image "$1/oci:docker.io/library/bench:1" "$1/umoci-sq" >/dev/null &&
  mksquashfs "$1/umoci-sq/rootfs" "$1/umoci.sqsh" -noappend -no-progress -quiet -exit-on-error -comp gzip' _ "$work"
ls -l "$work/regpull.sqsh" "$work/umoci.sqsh" | awk '{print "  " $5 " bytes  " $NF}' 
