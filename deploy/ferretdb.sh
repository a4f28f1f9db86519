#!/usr/bin/env bash
# A local MongoDB-protocol server for trying finews and for its tests: FerretDB v1 with its embedded
# SQLite backend, on 127.0.0.1 only, telemetry off, no debug listener.
#
#   deploy/ferretdb.sh start DIR   build once (cached), start with its data in DIR, wait until it
#                                  answers ping; the last line printed is its URI
#   deploy/ferretdb.sh stop DIR    stop the server started in DIR (by its pid file)
#   deploy/ferretdb.sh build       only build (or find) the binary and print its path
#
# FINEWS_FERRETDB_BIN: use this binary instead of building one.
# FINEWS_FERRETDB_PORT: listen on this port (default: a free one) — to restart on the same URI.
# FINEWS_CACHE_DIR: where the built binary is kept (default ~/.cache/finews).
set -euo pipefail

VERSION=v1.24.2 # v2 needs PostgreSQL with DocumentDB's extension; v1 runs on SQLite alone
MODULE=github.com/FerretDB/FerretDB

usage() {
  echo "usage: $0 start DIR | stop DIR | build" >&2
  exit 2
}

# Print the path of a FerretDB binary, building it from the Go module proxy on first use.
binary() {
  if [ -n "${FINEWS_FERRETDB_BIN:-}" ]; then
    echo "$FINEWS_FERRETDB_BIN"
    return
  fi
  local cache="${FINEWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/finews}"
  local bin="$cache/ferretdb-$VERSION"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || {
      echo "ferretdb.sh: Go is not installed: it is needed once, to build FerretDB" >&2
      exit 3
    }
    mkdir -p "$cache"
    local work
    work="$(mktemp -d)"
    # `go install` of the module alone builds a binary that panics at start: the version file is
    # written by FerretDB's own build tooling. So the module source is copied and given one.
    (cd "$work" && GOFLAGS=-mod=mod go mod download -json "$MODULE@$VERSION" >module.json)
    local source
    source="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$work/module.json")"
    cp -r "$source" "$work/src"
    chmod -R u+w "$work/src"
    echo "$VERSION" >"$work/src/build/version/version.txt"
    (cd "$work/src" && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" ./cmd/ferretdb) >&2
    mv "$bin.tmp" "$bin"
    rm -rf "$work"
  fi
  echo "$bin"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Succeed when a MongoDB-protocol server on 127.0.0.1:$1 answers {ping: 1} with ok: 1.
ping() {
  python3 - "$1" <<'PY'
import socket, struct, sys

body = b"\x10ping\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
document = struct.pack("<i", len(body) + 5) + body + b"\x00"
payload = struct.pack("<I", 0) + b"\x00" + document  # OP_MSG: flags, one body section
message = struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as sock:
        sock.sendall(message)
        reply = sock.recv(65536)
except OSError:
    sys.exit(1)
sys.exit(0 if b"\x01ok\x00" + struct.pack("<d", 1.0) in reply else 1)
PY
}

start() {
  local dir="$1"
  mkdir -p "$dir/data"
  dir="$(cd "$dir" && pwd)"
  if [ -f "$dir/ferretdb.pid" ] && kill -0 "$(cat "$dir/ferretdb.pid")" 2>/dev/null; then
    echo "ferretdb.sh: a server already runs for $dir (pid $(cat "$dir/ferretdb.pid"))" >&2
    cat "$dir/ferretdb.uri"
    return
  fi
  local bin port
  bin="$(binary)"
  port="${FINEWS_FERRETDB_PORT:-$(free_port)}"
  "$bin" \
    --listen-addr="127.0.0.1:$port" \
    --handler=sqlite \
    --sqlite-url="file:$dir/data/" \
    --state-dir="$dir" \
    --debug-addr=- \
    --telemetry=disable \
    --log-level=error \
    >"$dir/ferretdb.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/ferretdb.pid"
  for _ in $(seq 1 100); do
    if ping "$port"; then
      echo "mongodb://127.0.0.1:$port/" | tee "$dir/ferretdb.uri"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  echo "ferretdb.sh: the server did not answer on 127.0.0.1:$port; its log:" >&2
  cat "$dir/ferretdb.log" >&2
  stop "$dir"
  exit 1
}

stop() {
  local dir="$1"
  local pidfile="$dir/ferretdb.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile" "$dir/ferretdb.uri"
}

case "${1:-} $#" in
  "start 2") start "$2" ;;
  "stop 2") stop "$2" ;;
  "build 1") binary ;;
  *) usage ;;
esac
