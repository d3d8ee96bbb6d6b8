# A SIP core reads its settings with libsipcfg and zlib alone: a program linked
# with exactly `-lsipcfg -lz` (no c-ares, no jansson, no libmicrohttpd) builds
# and reads an image the CLI wrote.
source "$(dirname "$0")/lib.sh"

lib=$SIPCFG_TOP/build
[ -f "$lib/libsipcfg.a" ] || { fail "build/libsipcfg.a exists (make builds it)"; t_done; exit 1; }
cat >"$T_DIR/reader.c" <<'C'
#include <stdio.h>
#include "sipcfg.h"

int main(int argc, char **argv)
{
    sipcfg *c;
    struct sipcfg_line l;
    int rc = argc == 2 ? sipcfg_open(argv[1], &c) : -1;
    if (rc < 0) {
        fprintf(stderr, "reader: %s\n", sipcfg_strerror(rc));
        return 1;
    }
    if (sipcfg_get_line(c, 1, &l) == 0) {
        printf("%d %s %s:%u %s %u", l.enabled, l.user, l.proxy.host, l.proxy.port,
               l.proxy.transport, l.proxy.ntargets);
        for (unsigned i = 0; i < l.proxy.ntargets; i++)
            printf(" %s:%u/%s", l.proxy.targets[i].addrs[0], l.proxy.targets[i].port,
                   l.proxy.targets[i].transport);
        printf("\n");
    }
    sipcfg_close(c);
    return 0;
}
C
if ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$SIPCFG_TOP/include" -o "$T_DIR/reader" \
     "$T_DIR/reader.c" -L"$lib" -lsipcfg -lz 2>"$T_DIR/cc.err"; then
  ok "a reader links with -lsipcfg -lz only"
else
  fail "a reader links with -lsipcfg -lz only" "$(head -5 "$T_DIR/cc.err")"
  t_done; exit 1
fi
hits=$(nm "$T_DIR/reader" | grep -E ' [TU] (ares_|json_|MHD_)' || true)
check "the reader holds no resolver, JSON or HTTP code" "" "$hits"

img=$T_DIR/flash.img
cat >"$T_DIR/cfg.json" <<'J'
{"format": 1, "lines": [{"enabled": true, "user": "1001",
  "proxy": "pbx.example.test:5070;transport=tcp"}]}
J
"$SIPCFG" --flash "$img" import "$T_DIR/cfg.json" >/dev/null 2>&1
check "the CLI wrote the image" 0 "$?"
check "the reader reads line 1" "1 1001 pbx.example.test:5070 tcp 0" "$("$T_DIR/reader" "$img")"
t_done
