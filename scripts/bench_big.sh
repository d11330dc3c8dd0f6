# The big-blob table, sourced by `scripts/bench.sh big` once its registry
# ($host) and its functions (timed, against_dd, row) are ready: one layer of
# BENCH_BIG_MIB (8192) MiB, so that peak RSS is seen flat in blob size next
# to (a)'s 1 GiB. The layer is real gzip (one 64 MiB member of random bytes,
# repeated: a valid multi-member stream), written by streaming, never held
# in memory, and pushed with skopeo.
#   (g) regpull pulling it onto the disk, against dd conv=fsync of as many
#       bytes on the same filesystem, each twice, in turn (as (b))
#   (h) the same into tmpfs, against skopeo copy, each once, each output
#       deleted before the next (two of them would not fit in memory)
# shellcheck shell=bash disable=SC2154
BIG_MIB=${BENCH_BIG_MIB:-8192}
echo "building a ${BIG_MIB} MiB single-layer image..." >&2
python3 - "$work/big" "$BIG_MIB" <<'PY'
import gzip, hashlib, json, os, sys
root, mib = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{root}/blobs/sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
raw = os.urandom(64 << 20)
member = gzip.compress(raw, compresslevel=1, mtime=0)
diff, blob, size, tmp = hashlib.sha256(), hashlib.sha256(), 0, f"{root}/blobs/sha256/tmp"
with open(tmp, "wb") as f:
    for _ in range(max(1, mib // 64)):
        f.write(member); blob.update(member); diff.update(raw); size += len(member)
os.rename(tmp, f"{root}/blobs/sha256/{blob.hexdigest()}")
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff.hexdigest()]}}).encode()
layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
         "digest": "sha256:" + blob.hexdigest(), "size": size}
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                "layers": [layer]}).encode()
ref = dict(put(m), mediaType="application/vnd.oci.image.manifest.v1+json",
           annotations={"org.opencontainers.image.ref.name": "huge"})
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{root}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [ref]}))
open(f"{root}/huge.bytes", "w").write(str(len(m) + len(cfg) + size))
PY
skopeo copy -q --dest-tls-verify=false "oci:$work/big:huge" "docker://$host/bench/huge:1"
bytes=$(cat "$work/big/huge.bytes")
# Its page cache would crowd what is measured.
rm -rf "$work/big"
huge=$host/bench/huge:1
echo "registry $host holds bench/huge:1 ($(size "$bytes"))" >&2

echo "(g) onto the disk, each command twice, in turn" >&2
against_dd g "$huge" "$bytes"
row "(g) ${BIG_MIB} MiB, 1 layer → disk ($disk_fs), faster of two runs each" "dd conv=fsync"

echo "(h) into tmpfs" >&2
timed r "$REGPULL" pull -q -o "$shm/h-regpull" "$huge"
rm -rf "$shm/h-regpull"
timed o "${skopeo_from[@]}" "docker://$huge" "oci:$shm/h-skopeo:bench"
rm -rf "$shm/h-skopeo"
row "(h) ${BIG_MIB} MiB, 1 layer → tmpfs" "skopeo copy"

echo "| scenario | regpull wall | CPU | peak RSS | served | against | wall | CPU | peak RSS | served | regpull/other wall | CPU | notes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
