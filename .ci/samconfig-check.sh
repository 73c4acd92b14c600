#!/usr/bin/env bash
# samconfig-check.sh ENV: the stack name and region that `sam deploy` uses ([ENV.deploy.parameters])
# must be the ones every other sam command uses ([ENV.global.parameters]: sam logs, sam delete,
# sam sync). `sam deploy --guided` writes its answers into the deploy section only, so a stack
# name or region chosen there would leave `sam logs` and `sam delete` aimed at another stack.
set -euo pipefail
env=${1:-default}
file=${SAMCONFIG:-samconfig.toml}
value() { # value SECTION KEY: the key's value in [SECTION.parameters], empty if absent
  awk -v sec="[$1.parameters]" -v key="$2" '
    /^\[/ { in_sec = ($0 == sec); next }
    in_sec && $1 == key { sub(/^[^=]*=[ \t]*/, ""); gsub(/"/, ""); print; exit }
  ' "$file"
}
bad=0
for key in stack_name region; do
  d=$(value "$env.deploy" "$key")
  g=$(value "$env.global" "$key")
  if [ -n "$d" ] && [ "$d" != "$g" ]; then
    echo "$file: [$env.deploy.parameters] $key = \"$d\" but [$env.global.parameters] $key = \"$g\": copy it to the global section (sam deploy --guided writes only the deploy one), or sam logs and sam delete target another stack"
    bad=1
  fi
done
exit "$bad"
