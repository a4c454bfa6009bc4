#!/usr/bin/env bash
# Start or stop the loopback Kamailio fixture (scripts/kamailio/kamailio.cfg).
#
#   scripts/kamailio.sh start DIR [PORT] [USER:PASSWORD...]   # prints "ready PORT" when it answers SIP
#   scripts/kamailio.sh stop DIR
#
# DIR holds the pid file, the control socket and kamailio.log. PORT 0 (the default) picks a
# free port. Users are added to the in-memory password table; with none, alice/bob/carol are
# added with the passwords alicepw/bobpw/carolpw. Set KAM_ARGS for extra kamailio arguments
# (default "-A WITH_AUTH"). Everything listens on 127.0.0.1 only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: kamailio.sh start|stop DIR [PORT] [USER:PASSWORD...]}
dir=$(mkdir -p "${2:?DIR missing}" && cd "$2" && pwd)
case "$cmd" in
start)
  port=${3:-0}
  shift $(( $# >= 3 ? 3 : 2 ))
  users=("$@")
  [ ${#users[@]} -gt 0 ] || users=(alice:alicepw bob:bobpw carol:carolpw)
  command -v kamailio >/dev/null || { echo "kamailio is not installed" >&2; exit 2; }
  if [ "$port" = 0 ]; then
    port=$(python3 - <<'PY'
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        continue
    finally:
        t.close(); u.close()
PY
)
  fi
  ctl="unix:$dir/kamailio_ctl"
  # shellcheck disable=SC2086
  kamailio -f "$here/kamailio/kamailio.cfg" -P "$dir/kamailio.pid" -Y "$dir" -w "$dir" -DD -E \
    -A "SIP_PORT=$port" -A "CTL_SOCK=\"$ctl\"" ${KAM_ARGS:--A WITH_AUTH} >"$dir/kamailio.log" 2>&1 &
  echo $! >"$dir/kamailio.launcher.pid"
  # Ready = it answers a real SIP OPTIONS (not just an open port).
  python3 - "$port" <<'PY' || { echo "kamailio did not become ready; see $dir/kamailio.log" >&2; tail -20 "$dir/kamailio.log" >&2; exit 1; }
import socket, sys, uuid
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(0.2)
lp = s.getsockname()[1]
for attempt in range(50):
    b = uuid.uuid4().hex
    msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lp};branch=z9hG4bK{b}\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag={b[:8]}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
           f"Call-ID: {b}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(65535)
    except OSError:
        continue
    if data.startswith(b"SIP/2.0 200"):
        sys.exit(0)
sys.exit(1)
PY
  for up in "${users[@]}"; do
    kamcmd -s "$ctl" htable.sets users "${up%%:*}" "${up#*:}" >/dev/null
  done
  echo "ready $port"
  ;;
stop)
  if [ -f "$dir/kamailio.pid" ]; then
    pid=$(cat "$dir/kamailio.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$dir/kamailio.pid"
  fi
  ;;
*) echo "usage: kamailio.sh start|stop DIR [PORT] [USER:PASSWORD...]" >&2; exit 2 ;;
esac
