#!/usr/bin/env bash
# Self-contained single-file `desksync` binaries, one folder per platform under dist/:
#   scripts/publish.sh                      # linux-x64 linux-arm64 win-x64 osx-arm64
#   scripts/publish.sh linux-x64            # just one
#   DIST=/tmp/out scripts/publish.sh        # somewhere else than dist/
# Each needs no .NET installed where it runs (the emulator's OpenAPI files are embedded).
set -euo pipefail
cd "$(dirname "$0")/.."
rids=("$@")
if [ ${#rids[@]} -eq 0 ]; then
  rids=(linux-x64 linux-arm64 win-x64 osx-arm64)
fi

for rid in "${rids[@]}"; do
  out="${DIST:-dist}/desksync-${rid}"
  rm -rf "$out"
  dotnet publish src/DeskSync.Cli -c Release -r "$rid" --self-contained true \
    -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:EnableCompressionInSingleFile=true -p:DebugType=none -p:PackAsTool=false \
    -o "$out" --nologo -v quiet
  echo "$out/$( [ "${rid%%-*}" = win ] && echo desksync.exe || echo desksync )"
done
