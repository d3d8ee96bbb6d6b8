# Damaged image files (issue 7): an image cut short by a few bytes, or with a
# trailer field flipped, while both banks are intact. The CLI and sipcfgd read
# the newest bank and say precisely what is wrong; the next save puts the file
# right. An image whose geometry cannot be known is served read-only (writes
# 507) and never written; a file that is not an image is never touched.
source "$(dirname "$0")/../integration/lib.sh"

ADMIN_PASS=Test-Pass-1234
GOOD=$T_DIR/good.img
printf '%s\n' "$ADMIN_PASS" | "$SIPCFG" --flash "$GOOD" passwd >/dev/null 2>&1
"$SIPCFG" --flash "$GOOD" import "$SIPCFG_TOP/examples/config.json" >/dev/null 2>&1  # generation 2
GOOD_SIZE=$(stat -c %s "$GOOD")
"$SIPCFG" --flash "$GOOD" export >"$T_DIR/want.json"
TRAILER=$(( (GOOD_SIZE - 24) / 4100 * 4096 ))   # where the trailer starts

# flip FILE OFFSET: one byte inverted, in place.
flip() {
  python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xFF]))
PY
}

# reads_newest IMG WHAT PATTERN: `sipcfg info` on IMG exits 0 and prints
# PATTERN (a glob), and `get` reads line 1 as the good image holds it.
reads_newest() {
  run --flash "$1" info
  check "info on $2 exits 0" 0 "$RC"
  case "$OUT" in
    $3) ok "info on $2 says what is wrong and which bank was used" ;;
    *) fail "info on $2 says what is wrong and which bank was used" "$OUT $ERR" ;;
  esac
  run --flash "$1" get line1.label
  check "get on $2" "$(jq -r '.lines[0].label' "$T_DIR/want.json")" "$OUT"
}

# ---- the CLI: info, export, get on a cut and on a flipped image
for n in 1 3 200; do
  img=$T_DIR/short$n.img
  cp "$GOOD" "$img"; truncate -s "-$n" "$img"
  run --flash "$img" info
  check "info on an image $n bytes short exits 0" 0 "$RC"
  case "$OUT" in
    *"state: ok"*"generation: 2 (bank 1"*"WARNING: the image file is $n byte"*" shorter than its trailer's geometry (64 blocks) says"*"both banks are intact; bank 1 (generation 2, the newer) was used; the next saved change repairs the image"*)
      ok "info on an image $n bytes short says so and which bank was used" ;;
    *) fail "info on an image $n bytes short says so and which bank was used" "$OUT $ERR" ;;
  esac
  run --flash "$img" export
  check "export of an image $n bytes short exits 0" 0 "$RC"
  check "export of an image $n bytes short is the configuration" "$(cat "$T_DIR/want.json")" "$OUT"
  case "$ERR" in
    *"warning: $img: the image file is $n byte"*) ok "export warns about the $n missing bytes" ;;
    *) fail "export warns about the $n missing bytes" "$ERR" ;;
  esac
  check "reading changed nothing ($n short)" $((GOOD_SIZE - n)) "$(stat -c %s "$img")"
done

for field in 0:magic 16:"block count"; do
  off=${field%%:*}; name=${field#*:}
  img=$T_DIR/flip$off.img
  cp "$GOOD" "$img"; flip "$img" $((TRAILER + off))
  reads_newest "$img" "an image with the trailer's $name flipped" \
    "*WARNING: the image's trailer has a damaged $name; the file's size gives its geometry (64 blocks); both banks are intact; bank 1 (generation 2, the newer) was used*"
done

# The trailer's version or block size not ours (a newer format?): read, and
# never "repaired" down to this one: read-only.
for field in 8:version:"2, not 1" 12:"block size":"8192, not 4096"; do
  off=${field%%:*}; rest=${field#*:}; name=${rest%%:*}; vals=${rest#*:}
  img=$T_DIR/foreign$off.img
  cp "$GOOD" "$img"
  python3 - "$img" $((TRAILER + off)) "$name" <<'PY'
import sys, struct
p, off, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(p, "r+b") as f:
    f.seek(off); f.write(struct.pack("<I", 2 if name == "version" else 8192))
PY
  before=$(sha256sum "$img" | cut -c1-64)
  reads_newest "$img" "an image whose trailer's $name is unknown" \
    "*WARNING: the image's trailer has a $name this program does not know ($vals); the file's size gives its geometry (64 blocks); both banks are intact; bank 1 (generation 2, the newer) was used; the image cannot be written safely (read-only)*"
  printf 'Other-Pass-5678\n' | "$SIPCFG" --flash "$img" passwd >/dev/null 2>&1
  check "passwd with an unknown trailer $name exits 1" 1 $?
  check "... and leaves the image untouched" "$before" "$(sha256sum "$img" | cut -c1-64)"
done

# The next save repairs: passwd on the 3-byte-short image.
img=$T_DIR/short3.img
printf 'Other-Pass-5678\n' | "$SIPCFG" --flash "$img" passwd >/dev/null 2>"$T_DIR/err"
check "passwd on an image 3 bytes short works" 0 $?
check "... and gives the file its size back" "$GOOD_SIZE" "$(stat -c %s "$img")"
run --flash "$img" info
case "$OUT" in
  *WARNING*) fail "... and info has nothing more to say" "$OUT" ;;
  *"generation: 3 (bank 0"*) ok "... and info has nothing more to say" ;;
  *) fail "... and info has nothing more to say" "$OUT" ;;
esac
img=$T_DIR/flip0.img
printf 'Other-Pass-5678\n' | "$SIPCFG" --flash "$img" passwd >/dev/null 2>&1
check "passwd repairs a flipped magic" "SIPCFGFL" "$(dd if="$img" bs=1 skip="$TRAILER" count=8 2>/dev/null)"

# A geometry that cannot be known (cut short by more than the erase counts,
# and the whole trailer with it): read with a guess, never written.
img=$T_DIR/guess.img
cp "$GOOD" "$img"; truncate -s -600 "$img"
before=$(sha256sum "$img" | cut -c1-64)
run --flash "$img" info
check "info on an image 600 bytes short exits 0" 0 "$RC"
case "$OUT" in
  *"do not agree on a geometry; it was read as 64 blocks; both banks are intact; bank 1 (generation 2, the newer) was used; the image cannot be written safely (read-only)"*)
    ok "info says the geometry was guessed and the image is read-only" ;;
  *) fail "info says the geometry was guessed and the image is read-only" "$OUT" ;;
esac
run --flash "$img" export
check "export of it is the configuration" "$(cat "$T_DIR/want.json")" "$OUT"
printf 'Other-Pass-5678\n' | "$SIPCFG" --flash "$img" passwd >/dev/null 2>"$T_DIR/err"
check "passwd on it exits 1" 1 $?
case "$(cat "$T_DIR/err")" in
  *"layout was guessed from a damaged file"*"so it is read-only"*) ok "passwd says why" ;;
  *) fail "passwd says why" "$(cat "$T_DIR/err")" ;;
esac
check "the guessed image is untouched" "$before" "$(sha256sum "$img" | cut -c1-64)"

# A guess is kept only where bank 1 validates (bank 0 is at offset 0 whatever
# the guess): cut by more than a block or grown by more than one, bank 1 is
# found near the guess, never a silent rollback to bank 0's generation 1.
for change in -9000 +10000; do
  img=$T_DIR/guess$change.img
  cp "$GOOD" "$img"; truncate -s "$change" "$img"
  reads_newest "$img" "an image changed by $change bytes (bank 1 read as 64 blocks)" \
    "*generation: 2 (bank 1*it was read as 64 blocks; both banks are intact; bank 1 (generation 2, the newer) was used*"
done

# Not an image: same size as a real one, no bank, no trailer: left alone.
img=$T_DIR/zeros.img
head -c "$GOOD_SIZE" /dev/zero >"$img"
run --flash "$img" info
check "info on a file of zeros exits 1" 1 "$RC"
case "$ERR" in
  *"not a sipcfg flash image"*) ok "info says it is not an image" ;;
  *) fail "info says it is not an image" "$ERR" ;;
esac
printf 'Other-Pass-5678\n' | "$SIPCFG" --flash "$img" passwd >/dev/null 2>&1
check "passwd leaves a file of zeros alone" "$(head -c "$GOOD_SIZE" /dev/zero | sha256sum)" "$(sha256sum <"$img")"

# ---- sipcfgd on an image 3 bytes short: serves it, says so, repairs on save
FLASH=$T_DIR/d.img
cp "$GOOD" "$FLASH"; truncate -s -3 "$FLASH"; touch "$FLASH.passwd-set"
start_daemon || { fail "sipcfgd starts on an image 3 bytes short" "$(cat "$T_DIR/sipcfgd.log")"; t_done; exit 1; }
ok "sipcfgd starts on an image 3 bytes short"
grep -q "WARNING: $FLASH: the image file is 3 bytes shorter than its trailer's geometry (64 blocks) says" "$T_DIR/sipcfgd.log" \
  && ok "sipcfgd logs the damage" || fail "sipcfgd logs the damage" "$(cat "$T_DIR/sipcfgd.log")"
api GET /status
check_status "GET /status" 200
check_json "/status: image_damage" '.store.image_damage' \
  "the image file is 3 bytes shorter than its trailer's geometry (64 blocks) says; the erase counts of 1 block are lost; both banks are intact; bank 1 (generation 2, the newer) was used; the next saved change repairs the image"
check_json "/status: generation 2" '.store.generation' 2
api GET /lines/1
check_status "GET /lines/1 from the short image" 200
check_json "... is the stored line" '.label' "$(jq -r '.lines[0].label' "$T_DIR/want.json")"
json_api PATCH '/lines/1?dns=skip' '{"label": "repaired"}'
check_status "a save to the short image" 200
check "the save gave the file its size back" "$GOOD_SIZE" "$(stat -c %s "$FLASH")"
api GET /status
check_json "/status has no image_damage after the save" '.store.image_damage' null
check_json "/status: generation 3" '.store.generation' 3
stop_daemon

# The CLI repairs while sipcfgd runs: sipcfgd sees it at its next look.
cp "$GOOD" "$FLASH"; truncate -s -3 "$FLASH"
start_daemon || { fail "sipcfgd starts again on an image 3 bytes short"; t_done; exit 1; }
api GET /status
check_json "/status: image_damage before the CLI's save" '.store.image_damage | test("3 bytes shorter")' true
printf '%s\n' "$ADMIN_PASS" | "$SIPCFG" --flash "$FLASH" passwd >/dev/null 2>&1
check "the CLI's save gave the file its size back" "$GOOD_SIZE" "$(stat -c %s "$FLASH")"
api GET /status
check_json "/status: no image_damage after the CLI's save" '.store.image_damage' null
stop_daemon

# ---- sipcfgd's first start on a blank image it may not write (a trailer
# version not its own): the first password cannot be stored, it says so and
# exits 1, cleanly (its resolver stopped before its server).
img=$T_DIR/blank_foreign.img
python3 - "$img" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"\xff" * 64 * 4096 + b"SIPCFGFL" + struct.pack("<IIII", 2, 4096, 64, 0) + b"\0" * 256)
PY
before=$(sha256sum "$img" | cut -c1-64)
timeout 20 "$SIPCFGD" --listen "127.0.0.1:$(free_port)" --flash "$img" >"$T_DIR/first.out" 2>"$T_DIR/first.log"
check "sipcfgd's first start on it exits 1" 1 $?
grep -q "sipcfgd: cannot store the first admin password" "$T_DIR/first.log" \
  && ok "... saying the first password cannot be stored" || fail "... saying the first password cannot be stored" "$(cat "$T_DIR/first.log")"
grep -qi "sanitizer" "$T_DIR/first.log" && fail "... cleanly" "$(cat "$T_DIR/first.log")" || ok "... cleanly"
check "... and leaves the image untouched" "$before" "$(sha256sum "$img" | cut -c1-64)"

# ---- sipcfgd on an image whose geometry cannot be known: read-only, 507
FLASH=$T_DIR/dg.img
cp "$GOOD" "$FLASH"; truncate -s -600 "$FLASH"; touch "$FLASH.passwd-set"
before=$(sha256sum "$FLASH" | cut -c1-64)
start_daemon || { fail "sipcfgd starts on an image 600 bytes short" "$(cat "$T_DIR/sipcfgd.log")"; t_done; exit 1; }
ok "sipcfgd starts on an image 600 bytes short"
api GET /status
check_json "/status says the image is read-only" '.store.image_damage | test("cannot be written safely")' true
api GET /lines/1
check_status "GET /lines/1 from it" 200
json_api PATCH '/lines/1?dns=skip' '{"label": "never"}'
check_status "a write to it: 507" 507
check_json "507 says why" '.detail | test("layout was guessed.*so it is read-only")' true
stop_daemon
check "the image is untouched" "$before" "$(sha256sum "$FLASH" | cut -c1-64)"

t_done
