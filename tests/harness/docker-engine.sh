#!/usr/bin/env bash
# Make sure a Docker engine answers: install docker.io and start dockerd in the background when
# none does. Idempotent: returns at once when `docker info` already works.
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then
  exit 0
fi
apt_ensure docker.io iptables
if ! pgrep -x dockerd >/dev/null; then
  log "starting dockerd (log: /var/log/mecove-dockerd.log)"
  as_root sh -c 'nohup setsid dockerd >/var/log/mecove-dockerd.log 2>&1 </dev/null &'
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { log "docker engine is up"; exit 0; }
  sleep 1
done
tail -n 30 /var/log/mecove-dockerd.log >&2 || true
die "the Docker engine did not answer within 60 s (see /var/log/mecove-dockerd.log)"
