#!/usr/bin/env bash
# Fails when git tracks build output: a compiled binary (ELF, Mach-O, PE, Go archive or wasm,
# known by its first bytes, whatever its name or place) or any file over 1 MB. Build outputs
# belong in .gitignore; a committed binary bloats every clone for good.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=$((1024 * 1024))
bad=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue # deleted in the work tree, or a submodule
  size=$(wc -c <"$f")
  if [ "$size" -gt "$limit" ]; then
    echo "tracked file over 1 MB: $f ($size bytes)"; bad=1
  fi
  magic=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46*) kind="ELF binary" ;;
    cffaedfe* | cefaedfe* | feedface* | feedfacf* | cafebabe*) kind="Mach-O binary" ;;
    4d5a*) kind="PE (Windows) binary" ;;
    213c617263683e0a*) kind="ar archive (Go package archive)" ;;
    0061736d*) kind="wasm binary" ;;
    *) kind="" ;;
  esac
  if [ -n "$kind" ]; then
    echo "tracked build output: $f ($kind)"; bad=1
  fi
done < <(git ls-files -z)
if [ "$bad" != 0 ]; then
  echo "remove these with git rm --cached and ignore them in .gitignore"
  exit 1
fi
