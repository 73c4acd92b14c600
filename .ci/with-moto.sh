#!/usr/bin/env bash
# Runs a command with a moto server (a real AWS API: DynamoDB, SQS, SSM, CloudWatch, EventBridge)
# on a free loopback port (or MOTO_HOST:MOTO_PORT), exported as AWS_ENDPOINT_URL; stops the server
# afterwards.
set -euo pipefail
host=${MOTO_HOST:-127.0.0.1}
port=${MOTO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
# A port someone else holds would let moto fail to bind while the wait below connects to that
# other program: refuse it up front, in one line.
if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  echo "with-moto.sh: port $port is already in use by another program; stop it or pick another port (make local-aws LOCAL_AWS_PORT=5001, or MOTO_PORT)" >&2
  exit 1
fi
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
# Whatever answered, moto must still be running (it exits when it cannot bind).
kill -0 $pid 2>/dev/null || { cat "$log"; echo "with-moto.sh: moto server exited (port $port taken?)" >&2; exit 1; }
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=${AWS_REGION:-us-east-1} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
"$@"
