#!/usr/bin/env bash
# Build the image of the local stand-ins for what lies outside the EC2 host: PostgreSQL for RDS
# and an SSH Git server for the app's Git remote (scripts/demo.sh runs one container of it).
# Native amd64, on top of the local Debian 12 systemd base image; nothing is pulled. Cached like
# the base image: rebuilt only when this script or the base image changes. Prints the image.
#   PostgreSQL 15 (Debian 12's; RDS runs 16): listens on the container network, password login
#   over TLS only.
#   Git: user git with git-shell (fetch and push only), key login only, repositories under
#   /srv/git (a folder of the controller, mounted by demo.sh).
source "$(dirname "$0")/lib.sh"

image=mecove/standins:amd64
base="$(bash "$HARNESS_DIR/base-image.sh" amd64)"
inputs_hash="$(content_hash "$0" "base=$(docker image inspect -f '{{.Id}}' "$base")")"
current="$(docker image inspect -f '{{ index .Config.Labels "org.mecove.inputs" }}' "$image" 2>/dev/null || true)"
if [ "$current" = "$inputs_hash" ]; then
  echo "$image"
  exit 0
fi

log "building $image (PostgreSQL, OpenSSH server, Git; about 1 min)"
builder="mecove-standins-build-$$"
trap 'docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
docker run --name "$builder" -i "$base" bash -euo pipefail >"$CACHE_ROOT/standins-image.log" 2>&1 <<'BUILD' \
  || { tail -n 40 "$CACHE_ROOT/standins-image.log" >&2; die "building $image failed"; }
export DEBIAN_FRONTEND=noninteractive
# No service starts during the build (there is no init running); systemd starts them at boot.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get update -q
apt-get install -y -q postgresql openssh-server git
rm -f /usr/sbin/policy-rc.d
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

# PostgreSQL: reachable from the other containers of the demo network, with a password and over
# TLS only, as RDS for PostgreSQL 15+ (rds.force_ssl=1); demo.sh gives it a certificate.
conf_dir="$(ls -d /etc/postgresql/*/main)"
printf "listen_addresses = '*'\npassword_encryption = scram-sha-256\n" > "$conf_dir/conf.d/mecove.conf"
echo 'hostssl all all 0.0.0.0/0 scram-sha-256' >> "$conf_dir/pg_hba.conf"

# Git over SSH: one account, keys only, a shell that runs nothing but Git's transfer commands.
useradd --create-home --home-dir /home/git --shell /usr/bin/git-shell git
install -d -o git -g git -m 0700 /home/git/.ssh
git config --system --add safe.directory '*'
cat > /etc/ssh/sshd_config.d/mecove.conf <<'SSHD'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers git
SSHD
BUILD
docker commit -c 'CMD ["/lib/systemd/systemd"]' -c "LABEL org.mecove.inputs=$inputs_hash" \
  "$builder" "$image" >/dev/null
echo "$image"
