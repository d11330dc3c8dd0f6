# The push table, sourced by scripts/bench.sh push once its layout ($work/src,
# image `big`), its marker registry and its functions (timed, row) are ready.
# Each push goes to a registry of its own, started fresh, so that no tool
# finds blobs another one sent (skopeo's blob-info cache would mount them).
# shellcheck shell=bash disable=SC2154

# fresh_registry NAME: starts a Distribution registry storing on the disk
# under $work/NAME and prints its host; its pid joins push_pids.
fresh_registry() {
  mkdir -p "$work/$1"
  printf 'version: 0.1\nlog: {level: info, formatter: text}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:0}\n' \
    "$work/$1/data" > "$work/$1/config.yml"
  docker-registry serve "$work/$1/config.yml" >/dev/null 2>"$work/$1/registry.log" &
  push_pids+=" $!"
  local at=""
  for _ in $(seq 200); do
    at=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/$1/registry.log" | head -1 | cut -d' ' -f3) || true
    [ -n "$at" ] && break
    sleep 0.05
  done
  [ -n "$at" ] || { echo "docker-registry for $1 did not start" >&2; exit 1; }
  echo "$at"
}

to_regpull=$(fresh_registry push-regpull)
to_skopeo=$(fresh_registry push-skopeo)
to_curl=$(fresh_registry push-curl)
skopeo_to=(skopeo copy -q --dest-tls-verify=false)

echo "(p) ${MIB} MiB in ${LAYERS} layers from a layout to a fresh registry" >&2
timed r "$REGPULL" push -q -l "$work/src" big "$to_regpull/bench/big:1"
timed o "${skopeo_to[@]}" "oci:$work/src:big" "docker://$to_skopeo/bench/big:1"
r_served=- o_served=-
row "(p) push ${MIB} MiB, ${LAYERS} layers, layout → registry" "skopeo copy"

echo "(q) the same again, every blob there already" >&2
timed r "$REGPULL" push -q -l "$work/src" big "$to_regpull/bench/big:1"
timed o "${skopeo_to[@]}" "oci:$work/src:big" "docker://$to_skopeo/bench/big:1"
r_served=- o_served=-
row "(q) the same push again, up to date" "skopeo copy"

# The registry's ingest limit: every blob of the image at once, each a POST
# and a monolithic PUT by curl, nothing else in the way.
echo "(r) every blob uploaded at once by curl" >&2
blobs=$(python3 -c '
import json, sys
root = sys.argv[1]
top = [m for m in json.load(open(root + "/index.json"))["manifests"]
       if m["annotations"]["org.opencontainers.image.ref.name"] == "big"][0]
m = json.load(open(root + "/blobs/sha256/" + top["digest"][7:]))
print(" ".join(d["digest"] for d in [m["config"]] + m["layers"]))' "$work/src")
cat > "$work/curl-all.sh" <<'SH'
host=$1 root=$2; shift 2
for digest in "$@"; do
  (
    loc=$(curl -fsS -X POST -D - -o /dev/null "http://$host/v2/ingest/blobs/uploads/" |
      tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
    case $loc in http*) ;; *) loc=http://$host$loc ;; esac
    # -T streams the file (--data-binary would read it into memory first).
    curl -fsS -H 'Content-Type: application/octet-stream' \
      -T "$root/blobs/sha256/${digest#sha256:}" "$loc&digest=$digest" -o /dev/null
  ) &
done
wait
SH
# shellcheck disable=SC2086
timed r bash "$work/curl-all.sh" "$to_curl" "$work/src" $blobs
image_bytes=$(cat "$work/src/big.bytes")
ingest=$(awk "BEGIN { printf \"%.0f\", $image_bytes / 1048576 / $r_wall }")

echo "| scenario | regpull wall | CPU | peak RSS | served | against | wall | CPU | peak RSS | served | regpull/other wall | CPU | notes |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "registry ingest limit: every blob at once by curl (POST + PUT each): ${r_wall} s, about ${ingest} MiB/s; CPU ${r_cpu} s"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
