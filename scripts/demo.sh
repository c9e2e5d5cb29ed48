#!/usr/bin/env bash
# The main job on the local default: the whole pipeline on this machine, with the AWS emulator
# standing in for AWS and an arm64 Debian 12 systemd container for the EC2 host. The playbooks
# and roles are the ones real AWS gets; only the inventory (inventories/local) differs.
# PostgreSQL in a container stands in for RDS, and an SSH Git server in the same container for
# the app's Git remote (it serves examples/mecove-app, committed into it by this script).
#   scripts/demo.sh up     provision + configure + deploy (re-run: a fast no-op converge)
#   scripts/demo.sh down   remove everything `up` created
# One line per stage with its elapsed time; each stage's output is in .cache/demo/logs/.
source "$(dirname "$0")/../tests/harness/lib.sh"
cd "$REPO_ROOT"

state=.cache/demo
# The app host's architecture: arm64 (Graviton's, emulated here) or amd64 (native: the memory figures
# of tests/deploy/memory.py). The container's memory limit, per architecture (see start_host).
arch="${MECOVE_DEMO_ARCH:-arm64}"
case "$arch" in
  amd64) host_memory=(--memory 2g --memory-swap 2g) ;;
  arm64) host_memory=(--memory 4g --memory-swap 4g) ;;
  *) die "MECOVE_DEMO_ARCH must be arm64 or amd64, not '$arch'" ;;
esac
logs="$state/logs"
port="${MECOVE_DEMO_AWS_PORT:-5000}"
host_container=mecove-local-app   # ansible_host of mecove-app in inventories/local/hosts.yml
standins=mecove-local-standins    # PostgreSQL (for RDS) and the Git server
network=mecove-local
git_host=git.mecove.test
standins_vars=inventories/local/group_vars/all/local_standins.yml
rds_ca_on_host=/opt/mecove-standins/rds-ca-bundle.pem
domain="$(sed -n 's/^mecove_domain: *//p' inventories/local/host_vars/mecove-app.yml)"
outputs=inventories/local/group_vars/all/provision_outputs.yml
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
  image="$(bash tests/harness/base-image.sh "$arch")"
  if [ "$(docker inspect -f '{{.State.Running}}' "$host_container" 2>/dev/null)" = true ]; then
    [ "$(docker inspect -f '{{.Config.Image}}' "$host_container")" = "$image" ] \
      || die "$host_container runs $(docker inspect -f '{{.Config.Image}}' "$host_container"), not $image: make demo-destroy first"
    echo "$host_container already running"
    docker inspect -f '{{json .NetworkSettings.Networks}}' "$host_container" | grep -q "\"$network\"" \
      || docker network connect "$network" "$host_container"
    publish_rds_ca
    return 0
  fi
  docker rm -f "$host_container" >/dev/null 2>&1 || true
  # The same capabilities as the molecule platform (.config/molecule/config.yml); ports only on
  # loopback. A t4g.small's 2 CPUs, and on a native host its 2 GiB without swap; under arm64
  # emulation every process carries the emulator, which about doubles the peak (make deploy-memory).
  # Four times the CPU weight of other containers: when the test suite runs molecule beside
  # the demo, the demo's host (the suite's longest chain) comes first.
  docker run -d --name "$host_container" --hostname mecove-app --cpus 2 "${host_memory[@]}" --cpu-shares 4096 \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --stop-signal SIGRTMIN+3 --network "$network" -p 127.0.0.1:8080:80 -p 127.0.0.1:8443:443 "$image"
  # Boot under arm64 emulation takes a while.
  wait_for_boot "$host_container" && trust_machine_cas && add_ssm_user && publish_rds_ca
}

# The stand-in for https://truststore.pki.rds.amazonaws.com: the CA of the stand-in database's
# certificate, where the deploy downloads it from (a file:// URL on the host, pinned by checksum
# like the real bundle: group_vars/all/local_standins.yml).
publish_rds_ca() {
  docker exec -i "$host_container" sh -c "mkdir -p ${rds_ca_on_host%/*} && cat > $rds_ca_on_host" <"$state/rds-ca.pem"
}

# What the SSM agent does on EC2 at the first session: a local ssm-user that may sudo anything.
# configure and deploy log in as it (inventories/local/hosts.yml), as they do over SSM.
add_ssm_user() {
  docker exec "$host_container" sh -c 'id ssm-user >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ssm-user
    echo "ssm-user ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/ssm-agent-users && chmod 0440 /etc/sudoers.d/ssm-agent-users'
}

# configure and deploy as over SSM: without pipelining (amazon.aws.aws_ssm has none), so that
# a task that becomes the app user needs setfacl on the host, as on EC2. MECOVE_DEMO_PIPELINING=true
# trades that for speed (the test suite's re-run). Each remote command's time goes to
# $logs/<playbook>.timings.jsonl (tests/harness/callback_plugins/command_timings.py), which
# the test suite compares with the SSM command timeout of inventories/aws.
host_playbook() {
  local name="$1"; shift
  ANSIBLE_PIPELINING="${MECOVE_DEMO_PIPELINING:-false}" \
    ANSIBLE_CALLBACK_PLUGINS="$REPO_ROOT/tests/harness/callback_plugins" \
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.timer,command_timings \
    MECOVE_COMMAND_TIMINGS="$logs/$name.timings.jsonl" \
    ansible-playbook "playbooks/$name.yml" "$@"
}

# Wait for systemd in a container to finish booting, then insist on a clean boot.
wait_for_boot() {
  local container="$1" boot=""
  for _ in $(seq 1 150); do
    boot="$(docker exec "$container" systemctl is-system-running --wait 2>/dev/null || true)"
    case "$boot" in running|degraded) break ;; esac
    sleep 2
  done
  [ "$boot" = running ] && return 0
  echo "$container booted '$boot'; failed units:"
  docker exec "$container" systemctl list-units --failed --no-legend
  return 1
}

# A field of the provisioning outputs.
output() {
  python - "$1" <<'PY'
import sys, yaml
print(yaml.safe_load(open("inventories/local/group_vars/all/provision_outputs.yml"))["mecove_aws_outputs"][sys.argv[1]])
PY
}

# The stand-ins for what is outside the EC2 host, in one native container on the demo network:
# PostgreSQL answers at the RDS endpoint's name (a network alias), over TLS only (as RDS for
# PostgreSQL 15+ by default) with a certificate for that name from a CA of its own, with the
# master user and password of the emulator's RDS secret (with the rights RDS gives its master,
# not a superuser's), and the Git server at git.mecove.test accepts the stack's deploy key only.
# The generated inventory file tells configure and deploy where they are.
start_standins() {
  local image endpoint
  image="$(bash tests/harness/standins-image.sh)"
  endpoint="$(output rds_endpoint)"
  mkdir -p "$state/git"
  if [ "$(docker inspect -f '{{.State.Running}}' "$standins" 2>/dev/null)" != true ]; then
    docker rm -f "$standins" >/dev/null 2>&1 || true
    docker run -d --name "$standins" --hostname standins \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined --cgroupns=host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      --stop-signal SIGRTMIN+3 --network "$network" \
      --network-alias "$endpoint" --network-alias "$git_host" \
      -v "$REPO_ROOT/$state/git:/srv/git" "$image"
    wait_for_boot "$standins"
  fi
  database_tls "$endpoint" || return 1
  for _ in $(seq 1 30); do
    docker exec "$standins" pg_isready -q && break
    sleep 1
  done
  # `stage` runs this function as a condition, where set -e does not apply: fail explicitly.
  docker exec "$standins" pg_isready -q || return 1
  # The database role and its password, from the emulator's RDS master secret. The SQL goes on
  # stdin, so the password is on no command line and in no log.
  python - "$(output rds_master_secret_arn)" "$(output rds_db_name)" "$(output region)" <<'PY' \
    | docker exec -i -u postgres "$standins" psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null || return 1
import json, sys, boto3
arn, db, region = sys.argv[1:]
secret = json.loads(boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=arn)["SecretString"])
user, password = secret["username"], secret["password"]
literal = lambda v: "'" + v.replace("'", "''") + "'"
ident = lambda v: '"' + v.replace('"', '""') + '"'
print(f"SELECT 'CREATE ROLE {ident(user)} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal(user)}) \\gexec")
# As RDS's master: not a superuser, but it may create roles and databases (rds_superuser).
print(f"ALTER ROLE {ident(user)} WITH LOGIN CREATEROLE CREATEDB PASSWORD {literal(password)};")
print(f"SELECT 'CREATE DATABASE {ident(db)} OWNER {ident(user)}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {literal(db)}) \\gexec")
PY
  # The Git server takes the deploy key only, for fetching and pushing (no shell, no forwarding).
  printf 'restrict %s\n' "$(cat "$(output deploy_key_public_path)")" \
    | docker exec -i "$standins" sh -c 'cat > /home/git/.ssh/authorized_keys && chown git:git /home/git/.ssh/authorized_keys && chmod 600 /home/git/.ssh/authorized_keys'
  publish_app
  cat >"$standins_vars" <<VARS
---
# Written by scripts/demo.sh (not committed): the local stand-in Git server, which serves
# examples/mecove-app. Removed by scripts/demo.sh down.
app_deploy_repo_url: git@$git_host:/srv/git/mecove-app.git
deploy_key_git_host: $git_host
deploy_key_git_host_keys:
  - $(docker exec "$standins" cut -d' ' -f1-2 /etc/ssh/ssh_host_ed25519_key.pub)
# The stand-in database's CA, in place of the RDS bundle (see publish_rds_ca).
mecove_database_ca_bundle_url: file://$rds_ca_on_host
mecove_database_ca_bundle_checksum: sha256:$(sha256sum "$state/rds-ca.pem" | cut -d' ' -f1)
VARS
  # Under arm64 emulation each node process carries the emulator: an API instance is resident at
  # 300-400 MiB here (make deploy-memory), which would pass PM2's limit for Graviton and restart.
  [ "$arch" = amd64 ] || printf '%s\n' "# Emulated arm64 host: its processes' memory is inflated by the emulator." \
    "pm2_app_max_memory: 1G" >>"$standins_vars"
}

# The stand-in database's TLS: a CA and a certificate for the RDS endpoint's name, made once per
# stand-ins container (a re-run keeps them, so the pinned checksum does not move); its CA goes to
# $state/rds-ca.pem. The image accepts TCP logins over TLS only (standins-image.sh).
database_tls() {
  docker exec "$standins" bash -euo pipefail -c '
    dir=/etc/postgresql/standin-tls
    if [ ! -f "$dir/server.crt" ]; then
      mkdir -p "$dir" && cd "$dir"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
        -subj "/CN=mecove stand-in RDS CA" -keyout ca.key -out ca.crt 2>/dev/null
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
        -keyout server.key -out server.csr 2>/dev/null
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
        -extfile <(printf "subjectAltName=DNS:%s\n" "$1") -out server.crt 2>/dev/null
      chown postgres:postgres server.key && chmod 0600 server.key ca.key
      printf "ssl = on\nssl_cert_file = \047%s\047\nssl_key_file = \047%s\047\n" "$dir/server.crt" "$dir/server.key" \
        > "$(ls -d /etc/postgresql/*/main)/conf.d/standin-tls.conf"
      systemctl reload postgresql
    fi
    cat "$dir/ca.crt"' database_tls "$1" >"$state/rds-ca.pem"
}

# Commit examples/mecove-app (as it is in this working tree) to main of the stand-in remote; a
# new commit only when its content changed, so a re-run deploys nothing new.
publish_app() {
  local src="$state/app-src" bare="$state/git/mecove-app.git"
  [ -d "$bare" ] || git init -q --bare -b main "$bare"
  [ -d "$src/.git" ] || { git init -q -b main "$src" && git -C "$src" remote add origin "$REPO_ROOT/$bare"; }
  find "$src" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
  tar -C examples/mecove-app --exclude=./node_modules --exclude=./dist -c . | tar -x -C "$src"
  git -C "$src" add -A
  if ! git -C "$src" diff --cached --quiet || ! git -C "$src" rev-parse -q --verify HEAD >/dev/null; then
    GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@mecove.test GIT_COMMITTER_NAME=demo \
      GIT_COMMITTER_EMAIL=demo@mecove.test git -C "$src" commit -q -m "mecove-app from the collection's working tree"
  fi
  git -C "$src" push -q origin HEAD:refs/heads/main
  echo "main is $(git -C "$src" rev-parse HEAD)"
}

# The site through Caddy, over HTTPS, checked against the root certificate of Caddy's local CA.
prove_health() {
  docker exec "$host_container" cat /var/lib/caddy/storage/pki/authorities/local/root.crt >"$state/caddy-root.crt"
  curl -sS --fail-with-body --max-time 20 --cacert "$state/caddy-root.crt" \
    --resolve "$domain:8443:127.0.0.1" "https://$domain:8443/health"
  echo
}

# A report through the API, queued in Redis, rendered by the worker with Chromium, on disk as a
# PDF: the sample app's smoke check, run on the host as the app user.
prove_report() {
  docker exec -u mecove -w /home/mecove/app/current "$host_container" \
    node scripts/smoke.mjs --timeout-ms 180000
  # The logs land in /home/mecove/logs (where the CloudWatch agent reads them on EC2).
  docker exec "$host_container" ls -l /home/mecove/logs
  docker exec "$host_container" grep -q '"report rendered"' /home/mecove/logs/worker-out.log
}

up() {
  mkdir -p "$logs"
  command -v curl >/dev/null || apt_ensure curl
  echo "Local stack: AWS emulator on 127.0.0.1:$port, app host container $host_container ($arch)" >&2
  stage "toolchain (.venv)" bash tests/harness/venv.sh
  stage "docker engine + arm64 emulation" bash -c 'bash tests/harness/docker-engine.sh && bash tests/harness/arm64-emulation.sh'
  stage "AWS emulator" start_emulator
  stage "aws_provision (emulator)" ansible-playbook playbooks/aws_provision.yml
  docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
  stage "stand-ins: RDS, Git remote" start_standins
  stage "app host container ($arch)" start_host
  rm -f "$logs"/*.timings.jsonl
  stage "configure (app host)" host_playbook configure
  stage "deploy (sample app)" host_playbook deploy
  stage "proof: HTTPS /health via Caddy" prove_health
  stage "proof: report -> worker -> PDF" prove_report
  echo >&2
  sed -n '/^mecove_aws_outputs:/,$p' inventories/local/group_vars/all/provision_outputs.yml >&2
  cat >&2 <<MSG

Done in $(( $(date +%s) - demo_start ))s: provisioned on the emulator, configured the app host,
deployed examples/mecove-app (main of the stand-in Git remote), and proved it answers.
  The API through Caddy:  curl --cacert $state/caddy-root.crt --resolve $domain:8443:127.0.0.1 https://$domain:8443/health
  A report:               curl ... -H 'content-type: application/json' -d '{"title":"Hi","lines":["a"]}' https://$domain:8443/reports
Try next:
  docker exec $host_container sudo -u mecove pm2 ls           the API (cluster, 2) and the worker
  docker exec $host_container ls -l /home/mecove/app/releases /home/mecove/logs
  ansible-playbook playbooks/deploy.yml                       a no-op: the same commit is serving
  edit examples/mecove-app, then make demo                    a new release, switched without downtime
  ansible-playbook playbooks/rollback.yml                     back to the release before
  make verify                                                 the host suite (tests/live)
  make demo-destroy                                           remove it all
The CloudWatch agent is not applied to the local host (it cannot be downloaded here).
MSG
}

down() {
  mkdir -p "$logs"
  if emulator_up; then
    stage "aws_teardown (emulator)" ansible-playbook playbooks/aws_teardown.yml -e "confirm=$stack"
  fi
  stage "containers" docker rm -f "$host_container" "$standins"
  docker network rm "$network" >/dev/null 2>&1 || true
  if [ -f "$state/moto.pid" ]; then
    kill "$(cat "$state/moto.pid")" 2>/dev/null || true
  fi
  rm -rf "$state" "$outputs" "$standins_vars" inventories/.secrets/local
  echo "Local stack removed." >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac
