#!/usr/bin/env bash
# Builds two releases of a realistic root file system image for the benchmarks:
#
#   $IHOP_BENCH_DIR/images/v1.img  ext4, Debian bookworm "minbase" made by debootstrap plus a
#                                  few packages a small device would carry (systemd, ssh
#                                  server, python3, curl, iproute2, ...), from the bookworm
#                                  suite only.
#   $IHOP_BENCH_DIR/images/v2.img  the next release: v1's tree, then inside a chroot
#                                  bookworm-updates and bookworm-security are enabled,
#                                  `apt-get upgrade` runs and two more packages are installed
#                                  (jq, htop). That is what a device vendor's next
#                                  release looks like: security fixes plus a small feature.
#
# Both images have the same size (IMAGE_MIB, default 512 MiB). Each is made by
# `mkfs.ext4 -d TREE` from scratch, as image builders (Yocto, debos, mkosi) do, so files
# after the first change move on disk: the update is not a few patched blocks in place.
#
# Determinism: the trees are cached under $IHOP_BENCH_DIR/rootfs-v{1,2} (with the debootstrap
# log and the list of changed packages), and the images next to them; a rerun reuses both
# and does nothing. mkfs is made as deterministic as e2fsprogs 1.47.0 allows:
#   - fixed file system UUID (-U) and directory hash seed (-E hash_seed=), so metadata_csum
#     seeds and htree hashes do not vary;
#   - -E root_owner=0:0, so the root inode does not take the uid of whoever runs mkfs;
#   - E2FSPROGS_FAKE_TIME and SOURCE_DATE_EPOCH fix the superblock and inode times mkfs
#     writes itself (1.47.0 reads the former; later versions the latter);
#   - every mtime in the tree newer than the release's SOURCE_DATE_EPOCH is clamped to it
#     (files from .deb packages keep the package's own times), apt lists, caches and logs
#     are removed, /etc/machine-id is emptied;
#   - lazy_itable_init=0 and nodiscard, so mkfs writes every inode table itself.
# Running mkfs twice on the same tree gives the same bytes (checked below, BENCH_CHECK=1).
# What is not reproducible: the package versions (debootstrap takes whatever the mirror has
# today), and mkfs -d adds files in the host file system's readdir order, so another host
# may lay the same tree out differently. Keep the cache to compare runs.
#
# Needs root (debootstrap, chroot, mount of /proc) and Debian's mirror.
# Usage: bench/make-images.sh            (REBUILD=1 to throw the cache away)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
IMAGE_MIB=${IMAGE_MIB:-512}
V1_EPOCH=1735689600   # 2025-01-01T00:00:00Z
V2_EPOCH=1738368000   # 2025-02-01T00:00:00Z
FS_UUID_V1=6b1d2f0e-3c1a-4b7e-9f10-1a2b3c4d5e01
FS_UUID_V2=6b1d2f0e-3c1a-4b7e-9f10-1a2b3c4d5e02
INCLUDE=systemd-sysv,udev,kmod,iproute2,iputils-ping,openssh-server,ca-certificates,curl,python3,less,nano,procps,netbase
V2_EXTRA="jq htop"

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
need_tool debootstrap debootstrap
need_tool mkfs.ext4 e2fsprogs

if [ "${REBUILD:-0}" = 1 ]; then rm -rf "$WORK/rootfs-v1" "$WORK/rootfs-v2" "$IMAGES"; fi
mkdir -p "$IMAGES"

# Mounts for a chroot apt run; undone by the trap even when apt fails.
CHROOT_MOUNTS=()
chroot_prepare() {
  local root=$1
  mount -t proc proc "$root/proc"; CHROOT_MOUNTS+=("$root/proc")
  mount --bind /dev "$root/dev"; CHROOT_MOUNTS+=("$root/dev")
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # No service may start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
}
chroot_release() {
  local m i
  for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${CHROOT_MOUNTS[i]}; umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  CHROOT_MOUNTS=()
}
trap chroot_release EXIT

# Leaves a tree as a release would ship it: no apt lists or caches, no logs, no host
# resolv.conf, empty machine-id, mtimes clamped to the release date.
finish_tree() {
  local root=$1 epoch=$2
  rm -f "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
         "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* \
         "$root"/root/.bash_history
  mkdir -p "$root/var/lib/apt/lists/partial"
  : >"$root/etc/resolv.conf"
  : >"$root/etc/machine-id"
  find "$root" -xdev -newermt "@$epoch" -exec touch -h -d "@$epoch" {} +
}

build_v1() {
  local root=$WORK/rootfs-v1
  [ -f "$root.done" ] && return 0
  rm -rf "$root"
  log "debootstrap bookworm minbase + $INCLUDE (a few minutes)"
  if ! debootstrap --variant=minbase --include="$INCLUDE" bookworm "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"
  fi
  chroot "$root" dpkg-query -W -f "\${Package} \${Version}\n" | sort >"$WORK/packages-v1.txt"
  finish_tree "$root" "$V1_EPOCH"
  touch "$root.done"
}

build_v2() {
  local root=$WORK/rootfs-v2
  [ -f "$root.done" ] && return 0
  rm -rf "$root"
  log "v2: copy of v1, then apt-get upgrade from bookworm-updates/-security and install $V2_EXTRA"
  cp -a "$WORK/rootfs-v1" "$root"
  cat >"$root/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
SRC
  chroot_prepare "$root"
  {
    chroot "$root" apt-get update -q
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -y -q -o Dpkg::Options::=--force-confold upgrade
      # shellcheck disable=SC2086  # word splitting wanted: a list of arguments
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -y -q --no-install-recommends install $V2_EXTRA
    chroot "$root" apt-get clean
  } >"$WORK/v2-apt.log" 2>&1 || { tail -n 20 "$WORK/v2-apt.log" >&2; die "chroot apt failed (log: $WORK/v2-apt.log)"; }
  chroot_release
  chroot "$root" dpkg-query -W -f "\${Package} \${Version}\n" | sort >"$WORK/packages-v2.txt"
  finish_tree "$root" "$V2_EPOCH"
  touch "$root.done"
}

# make_image TREE IMAGE UUID EPOCH
make_image() {
  local tree=$1 img=$2 uuid=$3 epoch=$4
  [ -f "$img" ] && [ "$img" -nt "$tree.done" ] && return 0
  log "mkfs.ext4 -d $tree -> $img ($IMAGE_MIB MiB)"
  rm -f "$img.tmp"
  E2FSPROGS_FAKE_TIME=$epoch SOURCE_DATE_EPOCH=$epoch \
    mkfs.ext4 -q -F -t ext4 -b 4096 -I 256 -L rootfs -U "$uuid" \
      -E "root_owner=0:0,hash_seed=$uuid,lazy_itable_init=0,lazy_journal_init=0,nodiscard" \
      -d "$tree" "$img.tmp" "${IMAGE_MIB}M" >/dev/null
  e2fsck -fn "$img.tmp" >/dev/null 2>&1 || die "e2fsck found errors in $img.tmp"
  mv "$img.tmp" "$img"
}

build_v1
build_v2
make_image "$WORK/rootfs-v1" "$IMAGES/v1.img" "$FS_UUID_V1" "$V1_EPOCH"
make_image "$WORK/rootfs-v2" "$IMAGES/v2.img" "$FS_UUID_V2" "$V2_EPOCH"

if [ "${BENCH_CHECK:-0}" = 1 ]; then
  log "checking that mkfs is deterministic (rebuilding v1 to a scratch file)"
  E2FSPROGS_FAKE_TIME=$V1_EPOCH SOURCE_DATE_EPOCH=$V1_EPOCH \
    mkfs.ext4 -q -F -t ext4 -b 4096 -I 256 -L rootfs -U "$FS_UUID_V1" \
      -E "root_owner=0:0,hash_seed=$FS_UUID_V1,lazy_itable_init=0,lazy_journal_init=0,nodiscard" \
      -d "$WORK/rootfs-v1" "$WORK/v1-check.img" "${IMAGE_MIB}M" >/dev/null
  if cmp -s "$WORK/v1-check.img" "$IMAGES/v1.img"; then echo "mkfs deterministic: yes"; else echo "mkfs deterministic: NO"; fi
  rm -f "$WORK/v1-check.img"
fi

# A short description of the two releases.
count_diff_blocks() {
  python3 -c '
import sys
n = 0
with open(sys.argv[1], "rb") as a, open(sys.argv[2], "rb") as b:
    while True:
        x, y = a.read(4096), b.read(4096)
        if not x and not y:
            break
        n += x != y
print(n)' "$1" "$2"
}
used() { du -sx --block-size=1M "$1" | cut -f1; }
changed=$(comm -13 "$WORK/packages-v1.txt" "$WORK/packages-v2.txt" | wc -l)
diff_blocks=$(count_diff_blocks "$IMAGES/v1.img" "$IMAGES/v2.img")
{
  printf 'release\timage\tsize MiB\ttree MiB\tpackages\tsha256 (first 16)\n'
  for v in v1 v2; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$IMAGES/$v.img" "$(mib "$(stat -c %s "$IMAGES/$v.img")")" \
      "$(used "$WORK/rootfs-$v")" "$(wc -l <"$WORK/packages-$v.txt")" "$(sha256sum "$IMAGES/$v.img" | cut -c1-16)"
  done
} | table
echo "v2 vs v1: $changed packages new or at a new version; $diff_blocks of $((IMAGE_MIB * 256)) 4 KiB blocks differ"
echo "changed packages: $(comm -13 "$WORK/packages-v1.txt" "$WORK/packages-v2.txt" | cut -d' ' -f1 | tr '\n' ' ')"
