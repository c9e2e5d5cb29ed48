#!/usr/bin/env bash
# Build the local Debian 12 systemd base image for molecule and the local demo host:
#   base-image.sh arm64|amd64
# Nothing is pulled: the root filesystem comes from Debian's archive through debootstrap and is
# imported into the engine. The image carries a label with the hash of its inputs (this script,
# the arch, the mirrors and, for arm64, zip_bytecode_cache.py); when an image with the same hash
# exists, nothing is rebuilt.
# Prints the image reference on stdout.
source "$(dirname "$0")/lib.sh"

arch="${1:-arm64}"
case "$arch" in arm64|amd64) ;; *) die "usage: $0 arm64|amd64 (got '$arch')";; esac
suite=bookworm
mirror="${MECOVE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${MECOVE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
image="mecove/debian12-systemd:$arch"
inputs=("$0" "arch=$arch" "mirror=$mirror" "security=$security_mirror")
[ "$arch" = arm64 ] && inputs+=("$HARNESS_DIR/zip_bytecode_cache.py")  # installed in the arm64 image only
inputs_hash="$(content_hash "${inputs[@]}")"

current="$(docker image inspect -f '{{ index .Config.Labels "org.mecove.inputs" }}' "$image" 2>/dev/null || true)"
if [ "$current" = "$inputs_hash" ]; then
  echo "$image"
  exit 0
fi

apt_ensure debootstrap
[ "$arch" = arm64 ] && bash "$HARNESS_DIR/arm64-emulation.sh"
mkdir -p "$CACHE_ROOT"
rootfs="$(mktemp -d /var/tmp/mecove-rootfs.XXXXXX)"
trap 'as_root rm -rf "$rootfs"' EXIT
log "debootstrap $suite $arch into $rootfs (about 2 min for arm64 under emulation, 40 s for amd64)"
as_root debootstrap --arch="$arch" --variant=minbase \
  --include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps \
  "$suite" "$rootfs" "$mirror" >"$CACHE_ROOT/debootstrap-$arch.log" 2>&1 \
  || { tail -n 40 "$CACHE_ROOT/debootstrap-$arch.log" >&2; die "debootstrap failed"; }

# Apt sources with updates and security (chromium lives in bookworm-security), and a container
# that boots systemd cleanly: no getty on a console that is not there, no kernel-only units.
as_root tee "$rootfs/etc/apt/sources.list" >/dev/null <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
SOURCES
as_root tee "$rootfs/etc/apt/apt.conf.d/90mecove-container" >/dev/null <<'APT'
APT::Install-Recommends "false";
Acquire::Retries "3";
APT
for unit in getty.target systemd-remount-fs.service systemd-firstboot.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount; do
  as_root ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
image_env=()   # ENV lines of the image beyond container=docker
if [ "$arch" = arm64 ]; then
  # Emulator gap: systemd 252 sets up unit credentials in a private mount namespace, and
  # qemu-user (7.2 and 10 alike) answers clone(CLONE_NEWNS) with EINVAL (systemd issue 21511):
  # every unit with LoadCredential= fails (status 243/CREDENTIALS) and the system boots
  # "degraded" without tmpfiles or sysusers. These units use credentials only for optional
  # extras, so the arm64 test image drops them. Real hosts and our roles' units are untouched.
  for unit in systemd-tmpfiles-setup systemd-tmpfiles-setup-dev systemd-tmpfiles-clean \
    systemd-sysusers systemd-sysctl procps; do
    as_root mkdir -p "$rootfs/etc/systemd/system/$unit.service.d"
    printf '[Service]\nLoadCredential=\n' | as_root tee "$rootfs/etc/systemd/system/$unit.service.d/10-no-credentials.conf" >/dev/null
  done
  # Emulator cost: every Ansible task compiles its modules' source again, slowly under
  # emulation; the image's Python keeps that bytecode (see zip_bytecode_cache.py).
  as_root install -m 0644 "$HARNESS_DIR/zip_bytecode_cache.py" "$rootfs/usr/lib/python3/dist-packages/mecove_zip_bytecode_cache.py"
  echo "import mecove_zip_bytecode_cache" | as_root tee "$rootfs/usr/lib/python3/dist-packages/mecove-zip-bytecode-cache.pth" >/dev/null
  # The emulated CPU is the t4g's own, Graviton2 (Neoverse N1), not QEMU's default "max" with
  # features no Graviton2 has (SVE, pointer authentication): the code takes the paths it takes on
  # the instance. QEMU reads QEMU_CPU from each process's environment:
  # the image's (PID 1, docker exec), systemd's services, sudo, PAM sessions and login shells
  # (runuser -l, whose PAM stack has no pam_env) all pass it on.
  QEMU_CPU_ENV=QEMU_CPU=neoverse-n1
  as_root mkdir -p "$rootfs/etc/systemd/system.conf.d"
  printf '[Manager]\nDefaultEnvironment=%s\n' "$QEMU_CPU_ENV" | as_root tee "$rootfs/etc/systemd/system.conf.d/10-qemu-cpu.conf" >/dev/null
  echo "$QEMU_CPU_ENV" | as_root tee -a "$rootfs/etc/environment" >/dev/null
  echo "export $QEMU_CPU_ENV" | as_root tee "$rootfs/etc/profile.d/qemu-cpu.sh" >/dev/null
  echo 'Defaults env_keep += "QEMU_CPU"' | as_root tee "$rootfs/etc/sudoers.d/10-qemu-cpu" >/dev/null
  as_root chmod 0440 "$rootfs/etc/sudoers.d/10-qemu-cpu"
  image_env=(-c "ENV $QEMU_CPU_ENV")
fi
as_root rm -f "$rootfs/etc/machine-id" && as_root touch "$rootfs/etc/machine-id"
as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

log "importing $image"
as_root tar -C "$rootfs" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' "${image_env[@]}" \
  -c "LABEL org.mecove.inputs=$inputs_hash org.mecove.arch=$arch" - "$image" >/dev/null
echo "$image"
