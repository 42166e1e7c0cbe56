#!/usr/bin/env bash
# Build librdkafka's own benchmark, rdkafka_performance, from the librdkafka copy that
# rdkafka-sys compiled for kprod, so both link the very same librdkafka.
# Prints the path of the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(ls -td target/release/build/rdkafka-sys-*/out 2>/dev/null | while read -r d; do
        [ -f "$d/src/librdkafka-static.a" ] && echo "$d" && break; done)
[ -n "$out" ] || { echo "rdkafka-sys build output not found; run cargo build --release" >&2; exit 1; }
zstd=$(ls -t target/release/build/zstd-sys-*/out/libzstd.a 2>/dev/null | head -1)
[ -n "$zstd" ] || { echo "libzstd.a from zstd-sys not found" >&2; exit 1; }
bin=target/peer/rdkafka_performance
mkdir -p target/peer
if [ ! -x "$bin" ] || [ "$out/src/librdkafka-static.a" -nt "$bin" ]; then
    gcc -O2 -o "$bin" "$out/examples/rdkafka_performance.c" -I"$out/src" \
        "$out/src/librdkafka-static.a" "$zstd" -lssl -lcrypto -lz -lpthread -lm -ldl -lrt
fi
echo "$bin"
