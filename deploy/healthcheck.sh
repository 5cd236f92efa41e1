#!/bin/bash
# Container health check of actito-replicator (deploy/Dockerfile's HEALTHCHECK): exits 0 when
# the admin server answers 200 to GET /healthz, i.e. the process is up and its scheduler loop
# turns. The runtime image has no curl and does not get one for this: bash's /dev/tcp sends the
# single HTTP/1.0 request we need, and an HTTP client would only add packages and their CVEs.
#
#   actito-replicator-healthcheck [HOST:PORT [PATH]]
#
# HOST:PORT defaults to $ACTITO_REPLICATOR_ADMIN, else 127.0.0.1:9464 (server.listen's port;
# a listen address of 0.0.0.0 answers on 127.0.0.1 too). PATH defaults to /healthz; the compose
# file uses /_sim/health to check the simulator with the same script.
set -euo pipefail
addr=${1:-${ACTITO_REPLICATOR_ADMIN:-127.0.0.1:9464}}
path=${2:-/healthz}
host=${addr%:*}
port=${addr##*:}
host=${host#[}
host=${host%]}
exec 3<>"/dev/tcp/$host/$port"
printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$addr" >&3
status=""
read -r -t 5 _ status _ <&3 || true
exec 3<&-
if [ "$status" != 200 ]; then
  echo "GET http://$addr$path answered ${status:-nothing}" >&2
  exit 1
fi
