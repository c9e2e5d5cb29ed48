#!/usr/bin/env bash
# Let this x86_64 machine run arm64 (aarch64) binaries and containers through QEMU user-mode
# emulation, registered in binfmt_misc as `qemu-aarch64` with the flags OCPF. F (fix-binary)
# makes the kernel open the interpreter once, at registration, so it also works inside
# containers, whose file systems do not have it; O and P are what Debian's own registration uses.
# C (credentials) gives an emulated setuid binary its owner's rights, as on a real host: without
# it, sudo in an arm64 container fails ("effective uid is not 0"), and the local stand-in host
# could not be reached as SSM reaches EC2 (a non-root user that becomes root with sudo).
#
# Why not simply bookworm's qemu-user-static: under its QEMU 7.2 Chromium cannot start in an
# arm64 container at all (child processes fail, "GPU process isn't usable"); under QEMU 10 it
# renders PDFs (see molecule/chromium). Debian 12 has no QEMU 10, so this script takes the
# `qemu-user` package of Debian 13 (trixie), whose binaries are static, WITHOUT touching the
# host's apt configuration: a throw-away apt state (its own sources list, lists and cache in a
# temporary folder) downloads it, checked against the host's debian-archive-keyring; dpkg-deb
# unpacks it; only its qemu-aarch64 binary and binfmt line are kept, in $QEMU_DIR. No package
# is installed with dpkg, trixie never enters /etc/apt.
#
# Idempotent: when qemu-aarch64 is already registered, enabled, with the F flag, to an
# interpreter of QEMU >= $QEMU_MIN_MAJOR, nothing happens (that is also how a host with its own
# recent QEMU is left alone). Replacing the registration affects the whole machine: arm64
# processes already running keep their interpreter, new ones get the new one. After a reboot,
# binfmt-support (if installed) registers bookworm's 7.2 again; the next run swaps it back.
source "$(dirname "$0")/lib.sh"

[ "$(uname -m)" = aarch64 ] && exit 0   # native arm64 machine: nothing to emulate

QEMU_MIN_MAJOR=10
QEMU_SUITE="${MECOVE_QEMU_SUITE:-trixie}"
QEMU_MIRROR="${MECOVE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
QEMU_DIR=/usr/local/libexec/mecove-qemu
QEMU_BIN="$QEMU_DIR/qemu-aarch64"
QEMU_BINFMT_LINE="$QEMU_DIR/qemu-aarch64.binfmt"   # the package's binfmt.d line, our path in it
BINFMT=/proc/sys/fs/binfmt_misc
ENTRY="$BINFMT/qemu-aarch64"

# Major version of a qemu-aarch64 binary, empty when it does not run.
qemu_major() {
  [ -x "$1" ] || return 0
  "$1" --version 2>/dev/null | sed -n '1s/^qemu-aarch64 version \([0-9]\+\)\..*/\1/p'
}

recent_qemu() {
  local major
  major="$(qemu_major "$1")"
  [ -n "$major" ] && [ "$major" -ge "$QEMU_MIN_MAJOR" ]
}

# The registered entry is usable: enabled, F and C flags, interpreter QEMU >= QEMU_MIN_MAJOR.
registration_ok() {
  local flags
  [ -e "$ENTRY" ] || return 1
  [ "$(head -n 1 "$ENTRY")" = enabled ] || return 1
  flags="$(sed -n 's/^flags: //p' "$ENTRY")"
  [[ "$flags" == *F* && "$flags" == *C* ]] || return 1
  recent_qemu "$(sed -n 's/^interpreter //p' "$ENTRY")"
}

fetch_qemu() {
  local tmp apt_opts
  tmp="$(mktemp -d /var/tmp/mecove-qemu.XXXXXX)"
  # shellcheck disable=SC2064  # expand $tmp now
  trap "as_root rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $QEMU_MIRROR $QEMU_SUITE main" \
    >"$tmp/sources.list"
  apt_opts=(
    -o "Dir::Etc::sourcelist=$tmp/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
    -o "APT::Sandbox::User=root"   # the temporary folder is not _apt's
  )
  log "downloading qemu-user from Debian $QEMU_SUITE (temporary apt state in $tmp; host apt sources untouched)"
  as_root apt-get "${apt_opts[@]}" -qq update
  (cd "$tmp/deb" && as_root apt-get "${apt_opts[@]}" -qq download qemu-user)
  as_root dpkg-deb -x "$tmp"/deb/qemu-user_*.deb "$tmp/root"
  recent_qemu "$tmp/root/usr/bin/qemu-aarch64" \
    || die "qemu-user from $QEMU_SUITE is not QEMU >= $QEMU_MIN_MAJOR; set MECOVE_QEMU_SUITE"
  # The package's own binfmt line (magic, mask, flags OPF), pointed at our copy of the binary,
  # with C added (see the top of this file).
  grep -q ':OPF$' "$tmp/root/usr/share/qemu/binfmt.d/qemu-aarch64.conf" \
    || die "unexpected binfmt line: $(cat "$tmp/root/usr/share/qemu/binfmt.d/qemu-aarch64.conf")"
  awk -F: -v OFS=: -v interp="$QEMU_BIN" '{ $7 = interp; $8 = "OCPF"; print }' \
    "$tmp/root/usr/share/qemu/binfmt.d/qemu-aarch64.conf" >"$tmp/qemu-aarch64.binfmt"
  # Rename into place, so processes running the previous binary keep their copy.
  as_root install -d -m 0755 "$QEMU_DIR"
  as_root install -m 0755 "$tmp/root/usr/bin/qemu-aarch64" "$QEMU_BIN.new"
  as_root install -m 0644 "$tmp/qemu-aarch64.binfmt" "$QEMU_BINFMT_LINE"
  as_root mv -f "$QEMU_BIN.new" "$QEMU_BIN"
  log "installed $("$QEMU_BIN" --version | head -n 1) as $QEMU_BIN"
}

if [ ! -e "$BINFMT/status" ]; then
  as_root mount -t binfmt_misc binfmt_misc "$BINFMT"
fi
registration_ok && exit 0

# Serialise concurrent runs (several engineers' `make` on one machine).
exec 9>"${TMPDIR:-/tmp}/mecove-arm64-emulation.lock"
flock 9
registration_ok && exit 0

if ! recent_qemu "$QEMU_BIN" || ! grep -q ':OCPF$' "$QEMU_BINFMT_LINE" 2>/dev/null; then
  apt_ensure ca-certificates debian-archive-keyring
  fetch_qemu
fi
if [ -e "$ENTRY" ]; then
  log "replacing the qemu-aarch64 binfmt entry ($(sed -n 's/^interpreter //p' "$ENTRY"))"
  echo -1 | as_root tee "$ENTRY" >/dev/null   # removes the entry
fi
as_root tee "$BINFMT/register" <"$QEMU_BINFMT_LINE" >/dev/null
registration_ok || die "qemu-aarch64 did not register as expected: $(cat "$ENTRY" 2>/dev/null)"
log "arm64 emulation: $("$QEMU_BIN" --version | head -n 1), binfmt flags $(sed -n 's/^flags: //p' "$ENTRY")"
