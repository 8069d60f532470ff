#!/usr/bin/env bash
# Lints what npm would publish, for every publishable package (packages/*, less private ones such as
# test-support, which npm never sees): publint --strict
# (package.json against the packed files) and attw --pack --profile esm-only (the types each export resolves
# to under node16 and bundler resolution; ESM only, so CommonJS `require` and node10 are out of scope).
# Needs the packages built (`turbo run build`). Any problem fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
for dir in packages/*/; do
  if [ "$(node -p "require('./${dir}package.json').private === true")" = true ]; then continue; fi
  echo "== ${dir%/}"
  (cd "$dir" && publint --strict) || status=1
  (cd "$dir" && attw --pack --profile esm-only) || status=1
done
exit "$status"
