# Runs inside the nbd-vm guest (busybox sh, PID 1's child; host root read-only at /host).
# Attaches a backend to /dev/nbd0 with `ihop mount`, checks it from the kernel's side, then
# stops ihop with SIGTERM and checks that the device detached. Exit code 0 = all checks passed.
# Environment (from run-vm.sh's EXTRA_APPEND), all host paths (seen through chroot /host):
#   IHOP_JAVA  java binary        IHOP_JAR  ihop.jar
#   IHOP_BACKEND  what to mount (an ext4 image file or a release)
#   IHOP_IMAGE    the original ext4 image (raw bytes to compare the device with)
#   IHOP_SRC      the directory the image was made from (files to compare)
#   IHOP_MOUNT_ARGS  extra arguments for `ihop mount` (e.g. --block-size 1024), may be empty
RESULT=0
t() { cut -d' ' -f1 /proc/uptime; }
fail() { echo "GUEST: FAIL: $*"; RESULT=1; }
H=/host
mount -t proc proc $H/proc
mount -t sysfs sys $H/sys
mount -t devtmpfs dev $H/dev
mount -t tmpfs tmp $H/run
mount -t tmpfs tmp $H/tmp
JVM_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED"
# Host tools by absolute path: the guest's PATH finds busybox applets first.
ihop() { chroot $H "$IHOP_JAVA" $JVM_OPTS -jar "$IHOP_JAR" "$@"; }

echo "GUEST: ihop mount $IHOP_BACKEND /dev/nbd0 ${IHOP_MOUNT_ARGS:-} at $(t)s"
# Started directly (not through the function, which would run in a subshell) so that $! is
# the JVM itself: chroot execs it.
# shellcheck disable=SC2086
chroot $H "$IHOP_JAVA" $JVM_OPTS -jar "$IHOP_JAR" mount "$IHOP_BACKEND" /dev/nbd0 ${IHOP_MOUNT_ARGS:-} >$H/run/ihop.log 2>&1 &
PID=$!
LIVE=
for i in $(seq 1 1200); do
  if [ -e /sys/block/nbd0/pid ] && [ "$(cat /sys/block/nbd0/size)" != 0 ]; then LIVE=1; break; fi
  kill -0 $PID 2>/dev/null || break
  sleep 0.1
done
if [ -z "$LIVE" ]; then
  fail "/dev/nbd0 did not become live"; cat $H/run/ihop.log; exit 1
fi
echo "GUEST: live at $(t)s: size $(cat /sys/block/nbd0/size) sectors, pid $(cat /sys/block/nbd0/pid) (ihop $PID), ro=$(cat /sys/block/nbd0/ro)"
# sysfs names the thread in NBD_DO_IT; its thread group is the ihop process.
TGID=$(sed -n 's/^Tgid:[[:space:]]*//p' /proc/$(cat /sys/block/nbd0/pid)/status)
[ "$TGID" = "$PID" ] || fail "device is served by process $TGID, not ihop ($PID)"
[ "$(cat /sys/block/nbd0/ro)" = 1 ] || fail "device is not read-only"
EXPECTED_SECTORS=$(( $(chroot $H /usr/bin/stat -c %s "$IHOP_IMAGE") / 512 ))
[ "$(cat /sys/block/nbd0/size)" = "$EXPECTED_SECTORS" ] || fail "size $(cat /sys/block/nbd0/size) sectors, expected $EXPECTED_SECTORS"

# Bit-perfect: the whole device equals the original image.
if chroot $H /usr/bin/cmp /dev/nbd0 "$IHOP_IMAGE"; then echo "GUEST: device bytes equal the image"; else fail "device bytes differ from the image"; fi
# Writes are refused.
if dd if=/dev/zero of=/dev/nbd0 bs=512 count=1 conv=notrunc 2>/dev/null; then fail "writing the device succeeded"; fi

# A second attach of the same device: one clear line, non-zero exit.
ihop mount "$IHOP_BACKEND" /dev/nbd0 >$H/run/second.log 2>&1
RC=$?
echo "GUEST: second mount exit $RC: $(cat $H/run/second.log)"
[ $RC -ne 0 ] || fail "second mount of a busy device succeeded"
grep -q "already in use" $H/run/second.log || fail "second mount did not say the device is in use"
[ "$(wc -l < $H/run/second.log)" -eq 1 ] || fail "second mount printed more than one line"

mkdir -p $H/tmp/mnt
if mount -t ext4 -o ro /dev/nbd0 $H/tmp/mnt; then
  echo "GUEST: mounted at $(t)s"
  if chroot $H /usr/bin/diff -r -x lost+found "$IHOP_SRC" /tmp/mnt; then echo "GUEST: files equal the originals"; else fail "files differ"; fi
  if touch $H/tmp/mnt/new-file 2>/dev/null; then fail "the read-only file system took a write"; fi
  umount $H/tmp/mnt || fail "umount"
else
  fail "mount -o ro /dev/nbd0"
fi

echo "GUEST: SIGTERM to ihop at $(t)s"
kill -TERM $PID
wait $PID
RC=$?
echo "GUEST: ihop exit $RC at $(t)s; its output:"
cat $H/run/ihop.log
[ $RC -eq 0 ] || fail "ihop mount exited $RC after SIGTERM"
[ -e /sys/block/nbd0/pid ] && fail "device still has a pid after ihop stopped"
[ "$(cat /sys/block/nbd0/size)" = 0 ] || fail "device size $(cat /sys/block/nbd0/size) after detach, expected 0"
N=$(dd if=/dev/nbd0 bs=512 count=1 2>/dev/null | wc -c)
[ "$N" = 0 ] || fail "the detached device still reads ($N bytes)"
echo "GUEST: done at $(t)s, result $RESULT"
exit $RESULT
