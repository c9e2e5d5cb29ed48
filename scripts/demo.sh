#!/usr/bin/env bash
# The main job on the local default: the whole pipeline on this machine, with the AWS emulator
# standing in for AWS and an arm64 Debian 12 systemd container for the EC2 host. The playbooks
# and roles are the ones real AWS gets; only the inventory (inventories/local) differs.
#   scripts/demo.sh up     provision + configure (re-run: a fast no-op converge)
#   scripts/demo.sh down   remove everything `up` created
# One line per stage with its elapsed time; each stage's output is in .cache/demo/logs/.
source "$(dirname "$0")/../tests/harness/lib.sh"
cd "$REPO_ROOT"

state=.cache/demo
logs="$state/logs"
port="${MECOVE_DEMO_AWS_PORT:-5000}"
host_container=mecove-local-app   # ansible_host of mecove-app in inventories/local/hosts.yml
stack="$(sed -n 's/^mecove_stack_name: *//p' inventories/local/group_vars/all/aws_stack.yml)"
export PATH="$REPO_ROOT/.venv/bin:$PATH" ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
# The emulator, with dummy credentials: inventories/local refuses any other endpoint.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

demo_start=$(date +%s)
stage() {
  local name="$1"; shift
  local start log
  start=$(date +%s)
  log="$logs/$(echo "$name" | tr ' /' '__').log"
  printf '  %-34s ' "$name" >&2
  if "$@" >"$log" 2>&1; then
    printf 'ok    %4ss\n' "$(( $(date +%s) - start ))" >&2
  else
    printf 'FAILED %3ss (log: %s)\n' "$(( $(date +%s) - start ))" "$log" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

emulator_up() {
  curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null
}

start_emulator() {
  if [ -f "$state/moto.pid" ] && kill -0 "$(cat "$state/moto.pid")" 2>/dev/null && emulator_up; then
    echo "emulator already running (pid $(cat "$state/moto.pid"))"; return 0
  fi
  nohup setsid python tests/harness/moto_server.py --port "$port" --request-log "$state/moto-requests.log" \
    >"$state/moto.log" 2>&1 </dev/null &
  echo $! >"$state/moto.pid"
  for _ in $(seq 1 30); do emulator_up && return 0; sleep 1; done
  cat "$state/moto.log"; return 1
}

# Where this machine reaches the internet through a TLS-inspecting proxy, it trusts that proxy's
# CA in /usr/local/share/ca-certificates; the stand-in host must too, or its HTTPS downloads
# (Node.js from the npm registry) fail. Local-stack only: a real EC2 host has no such proxy.
trust_machine_cas() {
  local bundle=/etc/ssl/certs/ca-certificates.crt
  local ca
  for ca in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$ca" ] || continue
    docker exec "$host_container" grep -qF "$(sed -n 2p "$ca")" "$bundle" && continue
    docker exec -i "$host_container" sh -c "cat >> $bundle" <"$ca"
  done
}

start_host() {
  local image
  image="$(bash tests/harness/base-image.sh arm64)"
  if [ "$(docker inspect -f '{{.State.Running}}' "$host_container" 2>/dev/null)" = true ]; then
    echo "$host_container already running"; return 0
  fi
  docker rm -f "$host_container" >/dev/null 2>&1 || true
  # The same capabilities as the molecule platform (.config/molecule/config.yml); ports only on
  # loopback.
  docker run -d --name "$host_container" --hostname mecove-app \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --stop-signal SIGRTMIN+3 -p 127.0.0.1:8080:80 -p 127.0.0.1:8443:443 "$image"
  # Boot under arm64 emulation takes a while; wait for systemd to finish, then insist on a
  # clean boot.
  local boot=""
  for _ in $(seq 1 150); do
    boot="$(docker exec "$host_container" systemctl is-system-running --wait 2>/dev/null || true)"
    case "$boot" in running|degraded) break ;; esac
    sleep 2
  done
  if [ "$boot" = running ]; then
    trust_machine_cas
    return 0
  fi
  echo "the host container booted '$boot'; failed units:"
  docker exec "$host_container" systemctl list-units --failed --no-legend
  return 1
}

up() {
  mkdir -p "$logs"
  command -v curl >/dev/null || apt_ensure curl
  echo "Local stack: AWS emulator on 127.0.0.1:$port, app host container $host_container (arm64)" >&2
  stage "toolchain (.venv)" bash tests/harness/venv.sh
  stage "docker engine + arm64 emulation" bash -c 'bash tests/harness/docker-engine.sh && bash tests/harness/arm64-emulation.sh'
  stage "AWS emulator" start_emulator
  stage "aws_provision (emulator)" ansible-playbook playbooks/aws_provision.yml
  stage "app host container (arm64)" start_host
  stage "configure (app host)" ansible-playbook playbooks/configure.yml
  echo >&2
  sed -n '/^mecove_aws_outputs:/,$p' inventories/local/group_vars/all/provision_outputs.yml >&2
  cat >&2 <<MSG

Done in $(( $(date +%s) - demo_start ))s. Provisioned on the emulator and configured the app host.
Try: docker exec $host_container redis-cli ping
     docker exec $host_container sudo -u mecove pm2 -v
     curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -H 'Host: app.mecove.test' http://127.0.0.1:8080/
     ansible-playbook playbooks/configure.yml --check --diff      (a converged host: changed=0)
     make demo-destroy                                            (remove it all)
Not there yet: the deploy of the sample app (examples/mecove-app) is an open issue, so Caddy
has no app behind it yet, and the CloudWatch agent is not applied to the local host.
MSG
}

down() {
  mkdir -p "$logs"
  if emulator_up; then
    stage "aws_teardown (emulator)" ansible-playbook playbooks/aws_teardown.yml -e "confirm=$stack"
  fi
  stage "app host container" docker rm -f "$host_container"
  if [ -f "$state/moto.pid" ]; then
    kill "$(cat "$state/moto.pid")" 2>/dev/null || true
  fi
  rm -rf "$state" inventories/local/group_vars/all/provision_outputs.yml inventories/local/secrets
  echo "Local stack removed." >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac
