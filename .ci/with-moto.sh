#!/usr/bin/env bash
# Runs a command with a moto server (a real AWS API: DynamoDB, SQS, SSM, CloudWatch, EventBridge)
# on a free loopback port (or MOTO_HOST:MOTO_PORT), exported as AWS_ENDPOINT_URL; stops the server
# afterwards.
set -euo pipefail
host=${MOTO_HOST:-127.0.0.1}
port=${MOTO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
log=$(mktemp)
# One request at a time: threaded moto is not atomic on conditional writes (see shared/awstest).
python3 - "$port" "$host" >"$log" 2>&1 <<'PY' &
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple(sys.argv[2], int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
PY
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 150); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then break; fi
  kill -0 $pid 2>/dev/null || { cat "$log"; echo "moto server exited" >&2; exit 1; }
  sleep 0.2
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=${AWS_REGION:-us-east-1} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
"$@"
