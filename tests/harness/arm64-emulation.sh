#!/usr/bin/env bash
# Let this x86_64 machine run arm64 (aarch64) binaries and containers through QEMU user-mode
# emulation registered in binfmt_misc with the F (fix-binary) flag, so that it also works inside
# containers. Idempotent.
source "$(dirname "$0")/lib.sh"

[ "$(uname -m)" = aarch64 ] && exit 0   # native arm64 machine: nothing to emulate
apt_ensure qemu-user-static binfmt-support
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if ! grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
  as_root update-binfmts --enable qemu-aarch64
fi
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
  || die "qemu-aarch64 is registered without the F flag; containers could not use it"
