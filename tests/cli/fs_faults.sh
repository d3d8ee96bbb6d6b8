# File system faults around the image (issue 7): a full disk while an image is
# created is reported as a full disk, not as a configuration too big for a
# flash bank, and leaves no half-made image; an image on a read-only file
# system at start is served for reading and writes get 507, flash untouched.
# The small and the read-only file systems are mounted in a private mount
# namespace (unshare -m), so they vanish with this script whatever happens.
if [ -z "${SIPCFG_IN_NS:-}" ]; then
  if ! unshare -m true 2>/dev/null; then
    echo "not ok - unshare -m works (needed to mount a small file system)"; echo "0 passed, 1 failed"; exit 1
  fi
  SIPCFG_IN_NS=1 exec unshare -m bash "$0" "$@"
fi
source "$(dirname "$0")/../integration/lib.sh"
# Unmount first, or the cleanup cannot remove what lies on a read-only mount.
fs_cleanup() { umount "$T_DIR/ro" 2>/dev/null; umount "$T_DIR/small" 2>/dev/null; t_cleanup; }
trap fs_cleanup EXIT

SMALL=$T_DIR/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=64k tmpfs "$SMALL" || { fail "mount a 64 KiB tmpfs"; t_done; exit 1; }

printf 'Adm1n-test-pass\n' | "$SIPCFG" --flash "$SMALL/phone.img" passwd >"$T_DIR/out" 2>"$T_DIR/err"; rc=$?
check "passwd on a full disk exits 1" 1 "$rc"
case "$(cat "$T_DIR/err")" in
  *"no space left on the disk"*) ok "passwd says the disk is full" ;;
  *) fail "passwd says the disk is full" "$(cat "$T_DIR/err")" ;;
esac
case "$(cat "$T_DIR/err")" in
  *"does not fit in a flash bank"*) fail "passwd does not blame the configuration's size" ;;
  *) ok "passwd does not blame the configuration's size" ;;
esac
[ ! -e "$SMALL/phone.img" ] && ok "no half-made image left" || fail "no half-made image left" "$(ls -la "$SMALL")"

port=$(free_port)
timeout 20 "$SIPCFGD" --listen "127.0.0.1:$port" --flash "$SMALL/d.img" >"$T_DIR/d.out" 2>"$T_DIR/d.err"; rc=$?
check "sipcfgd on a full disk exits 1" 1 "$rc"
case "$(cat "$T_DIR/d.err")" in
  *"no space left on the disk"*) ok "sipcfgd says the disk is full" ;;
  *) fail "sipcfgd says the disk is full" "$(cat "$T_DIR/d.err")" ;;
esac
: >"$SMALL/empty.img"
printf 'Adm1n-test-pass\n' | "$SIPCFG" --flash "$SMALL/empty.img" passwd >"$T_DIR/out" 2>"$T_DIR/err"
check "passwd formatting an empty file on a full disk exits 1" 1 "$?"
check "...and leaves the file empty, not half an image" 0 "$(stat -c %s "$SMALL/empty.img")"
umount "$SMALL"

# --- a read-only file system at start: reads served, writes 507, nothing changed
RO=$T_DIR/ro
mkdir -p "$RO"
FLASH=$RO/phone.img
ADMIN_PASS=Test-Pass-1234
touch "$FLASH.passwd-set"   # start_daemon: the password is set here, before the mount
printf '%s\n' "$ADMIN_PASS" | "$SIPCFG" --flash "$FLASH" passwd >/dev/null 2>&1
"$SIPCFG" --flash "$FLASH" import "$SIPCFG_TOP/examples/config.json" >/dev/null 2>&1
before=$(sha256sum "$FLASH" | cut -c1-64)
mount --bind "$RO" "$RO" && mount -o remount,ro,bind "$RO" || { fail "mount the image's folder read-only"; t_done; exit 1; }
start_daemon || { fail "sipcfgd starts on a read-only image"; t_done; exit 1; }
ok "sipcfgd starts on a read-only image"
api GET /lines/1
check_status "GET /lines/1 from a read-only image" 200
json_api PATCH '/lines/1?dns=skip' '{"label": "changed"}'
check_status "a write to a read-only image: 507" 507
check_json "507 says why" '.detail | test("read-only")' true
stop_daemon
check "the image is untouched" "$before" "$(sha256sum "$FLASH" | cut -c1-64)"
printf 'x-pass-1234\n' | "$SIPCFG" --flash "$FLASH" passwd >/dev/null 2>"$T_DIR/err"; rc=$?
check "passwd on a read-only image exits 1" 1 "$rc"
case "$(cat "$T_DIR/err")" in *"read-only"*) ok "passwd says the image is read-only" ;;
  *) fail "passwd says the image is read-only" "$(cat "$T_DIR/err")" ;; esac
umount "$RO"
t_done
