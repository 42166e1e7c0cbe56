#!/usr/bin/env bash
# Tansu, a Kafka-protocol broker written in Rust, for kprod's real-broker suite.
#
#   scripts/broker.sh install        build tansu 0.6.0 from crates.io into a cache outside
#                                    the clone (15-20 minutes on 2 cores; once per machine)
#   scripts/broker.sh start [--tls] [--sasl]
#                                    run it on 127.0.0.1:19092 (memory storage), wait until it
#                                    answers metadata, record its PID; --tls adds a TLS
#                                    endpoint on 127.0.0.1:19093 with a self-signed CA;
#                                    --sasl adds a SASL/SCRAM-SHA-256 broker on 127.0.0.1:19095
#                                    with user "kprod" and the password in $KPROD_SASL_PASSWORD
#   scripts/broker.sh stop           end the processes this script started (by recorded PID)
#   scripts/broker.sh restart [--tls] [--sasl]
#   scripts/broker.sh status         exit 0 when the plain broker runs, 3 when not
#
# Everything the broker leaves (PID files, logs, certificates) lives in $KPROD_BROKER_DIR,
# outside the clone. Only 127.0.0.1 is ever listened on or advertised.
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU_VERSION=0.6.0
# 0.6.0's default features contain no storage engine. dynostore gives memory:// (the suite's
# broker); libsql gives sqlite://, the only engine here that stores SCRAM credentials
# (dynostore's credential calls do nothing, so SCRAM logins cannot succeed on it).
TANSU_FEATURES=dynostore,libsql
# Outside the clone so a fresh checkout (and `cargo clean`) reuses the 20-minute build; the
# directory names version and features, so a change of either builds afresh.
KPROD_TOOLS=${KPROD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/kprod}
TANSU_ROOT="$KPROD_TOOLS/tansu-$TANSU_VERSION-${TANSU_FEATURES//,/-}"
TANSU_BIN="$TANSU_ROOT/bin/tansu"
STATE=${KPROD_BROKER_DIR:-${TMPDIR:-/tmp}/kprod-broker}
PORT=${KPROD_BROKER_PORT:-19092}
TLS_PORT=${KPROD_BROKER_TLS_PORT:-19093}
# Plain port of the broker behind the TLS endpoint; never handed to clients.
TLS_BACKEND_PORT=$((TLS_PORT + 1))
SASL_PORT=${KPROD_BROKER_SASL_PORT:-19095}
START_TIMEOUT=${KPROD_BROKER_START_TIMEOUT:-60}

log() { echo "broker: $*" >&2; }

apt_install() {
    local sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    log "installing $*"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

install() {
    if [ -x "$TANSU_BIN" ]; then
        log "tansu $TANSU_VERSION already at $TANSU_BIN"
        return
    fi
    command -v cargo >/dev/null || { log "cargo not found: install the Rust toolchain"; exit 1; }
    mkdir -p "$TANSU_ROOT"
    log "building tansu $TANSU_VERSION ($TANSU_FEATURES) into $TANSU_ROOT (about 20 minutes on 2 cores)"
    # --locked: the versions tansu was released with, so a new upstream release of one of
    # its ~500 dependencies cannot break this build.
    cargo install tansu --version "$TANSU_VERSION" --locked --features "$TANSU_FEATURES" \
        --root "$TANSU_ROOT"
}

# pid_alive NAME: the PID recorded for NAME is alive and still the program we started
# (a recycled PID belongs to someone else and must not be signalled).
pid_alive() {
    local f="$STATE/$1.pid" pid exe
    [ -f "$f" ] || return 1
    read -r pid exe <"$f" || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$exe"
}

pid_of() { awk '{print $1}' "$STATE/$1.pid"; }

# spawn NAME EXE ARGS...: start a process in the background (working directory
# $SPAWN_DIR, default $STATE), record "PID EXE".
spawn() {
    local name=$1 exe=$2
    shift 2
    # exec: the PID recorded is the program's own, not a subshell's.
    (cd "${SPAWN_DIR:-$STATE}" && exec nohup "$exe" "$@" >"$STATE/$name.log" 2>&1 </dev/null) &
    echo "$! $exe" >"$STATE/$name.pid"
}

# Send a Metadata v1 request and wait for its answer: a listening socket is not yet a
# broker that serves requests. With a CA file the connection is TLS and verifies it; with
# PROBE_API=versions the request is ApiVersions, the one a broker that requires SASL
# answers before authentication.
probe() {
    PROBE_API=${PROBE_API:-metadata} python3 - "$@" <<'PY'
import os, socket, ssl, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
ca = sys.argv[3] if len(sys.argv) > 3 else None
try:
    s = socket.create_connection((host, port), timeout=3)
    if ca:
        ctx = ssl.create_default_context(cafile=ca)
        s = ctx.wrap_socket(s, server_hostname=host)
    client = b"kprod-broker-sh"
    if os.environ["PROBE_API"] == "versions":
        # ApiVersions v0: api_key 18, version 0, correlation id 7, client id; empty body.
        body = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    else:
        # Metadata v1: api_key 3, version 1, correlation id 7, client id; topics = null (all).
        body = struct.pack(">hhih", 3, 1, 7, len(client)) + client + struct.pack(">i", -1)
    s.sendall(struct.pack(">i", len(body)) + body)
    head = b""
    while len(head) < 8:
        chunk = s.recv(8 - len(head))
        if not chunk:
            sys.exit(1)
        head += chunk
    size, corr = struct.unpack(">ii", head)
    sys.exit(0 if corr == 7 and size > 4 else 1)
except (OSError, ssl.SSLError):
    sys.exit(1)
PY
}

# wait_ready NAME HOST PORT [CA]: until the broker answers metadata or START_TIMEOUT ends.
wait_ready() {
    local name=$1 deadline=$((SECONDS + START_TIMEOUT))
    shift
    while ! probe "$@"; do
        if ! pid_alive "$name"; then
            log "$name exited during start-up; its log ($STATE/$name.log) ends with:"
            tail -20 "$STATE/$name.log" >&2 || true
            exit 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            log "$name did not answer metadata on $2:$3 within ${START_TIMEOUT}s; see $STATE/$name.log"
            stop_one "$name"
            exit 1
        fi
        sleep 0.3
    done
}

# start_tansu NAME LISTEN_PORT ADVERTISED_PORT [STORAGE [EXTRA ARGS...]]
start_tansu() {
    local name=$1 listen=$2 advertise=$3
    # Each memory store belongs to one process: nothing survives a stop, so a restart is clean.
    local storage=${4:-memory://tansu/}
    shift $(($# < 4 ? $# : 4))
    if pid_alive "$name"; then
        log "$name already running (pid $(pid_of "$name"))"
        return
    fi
    [ -x "$TANSU_BIN" ] || { log "tansu not installed: run scripts/broker.sh install"; exit 1; }
    command -v python3 >/dev/null || apt_install python3
    spawn "$name" "$TANSU_BIN" broker \
        --listener-url "tcp://127.0.0.1:$listen" \
        --advertised-listener-url "tcp://127.0.0.1:$advertise" \
        --storage-engine "$storage" "$@"
    wait_ready "$name" 127.0.0.1 "$listen"
}

make_certs() {
    local dir="$STATE/tls"
    command -v openssl >/dev/null || apt_install openssl
    mkdir -p "$dir"
    # Reused while the server certificate has a day left: the directory outlives sessions.
    if [ -f "$dir/wrong-ca.pem" ] && [ -f "$dir/server.pem" ] &&
        openssl x509 -checkend 86400 -noout -in "$dir/server.pem" >/dev/null 2>&1; then
        return
    fi
    local cfg="$dir/openssl.cnf"
    cat >"$cfg" <<'EOF'
[req]
distinguished_name = dn
[dn]
[server]
subjectAltName = IP:127.0.0.1
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
EOF
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kprod test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -config "$cfg" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 30 -extfile "$cfg" -extensions server -out "$dir/server.pem" 2>/dev/null
    # A CA that signed nothing here: clients trusting it must refuse the server.
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kprod wrong CA" \
        -keyout "$dir/wrong-ca.key" -out "$dir/wrong-ca.pem" 2>/dev/null
    log "certificates in $dir (ca.pem signs server.pem for IP 127.0.0.1; wrong-ca.pem signs nothing)"
}

# Tansu 0.6.0 accepts --cert/--key but never uses them: its listener builds the TLS
# acceptor into an unused variable (tansu-broker 0.6.0, src/broker.rs, `let _acceptor`)
# and serves every connection as plain TCP. So the TLS endpoint is socat terminating TLS
# in front of a second broker whose advertised address is the TLS port: every connection
# a client makes, bootstrap and after metadata, goes through TLS.
start_tls() {
    make_certs
    command -v socat >/dev/null || apt_install socat
    start_tansu tansu-tls-backend "$TLS_BACKEND_PORT" "$TLS_PORT"
    if ! pid_alive socat-tls; then
        local dir="$STATE/tls"
        spawn socat-tls "$(command -v socat)" \
            "OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert=$dir/server.pem,key=$dir/server.key,verify=0" \
            "TCP:127.0.0.1:$TLS_BACKEND_PORT"
    fi
    wait_ready socat-tls 127.0.0.1 "$TLS_PORT" "$STATE/tls/ca.pem"
}

# A SCRAM user must exist before a broker that requires authentication lets anyone in, and
# creating one needs a connection: so a first broker without authentication creates it in a
# fresh SQLite store, then a second one on the same store requires SASL.
start_sasl() {
    if [ -z "${KPROD_SASL_PASSWORD:-}" ]; then
        log "start --sasl needs the password of user kprod in KPROD_SASL_PASSWORD"
        exit 2
    fi
    if pid_alive tansu-sasl; then
        log "tansu-sasl already running (pid $(pid_of tansu-sasl))"
        return
    fi
    local dir="$STATE/sasl"
    rm -rf "$dir"
    mkdir -p "$dir"
    SPAWN_DIR=$dir start_tansu tansu-sasl-setup "$SASL_PORT" "$SASL_PORT" sqlite://tansu.db
    # tansu takes the password as an argument only: it is in this short-lived process's
    # command line (visible to local users for a moment), never in a file or a log.
    if ! "$TANSU_BIN" user create --broker "tcp://127.0.0.1:$SASL_PORT" --mechanism scram256 \
        kprod "$KPROD_SASL_PASSWORD" >"$STATE/tansu-sasl-user.log" 2>&1; then
        log "creating the SCRAM user failed:"
        cat "$STATE/tansu-sasl-user.log" >&2
        stop_one tansu-sasl-setup
        exit 1
    fi
    stop_one tansu-sasl-setup
    PROBE_API=versions SPAWN_DIR=$dir start_tansu tansu-sasl "$SASL_PORT" "$SASL_PORT" \
        sqlite://tansu.db --authentication
}

start() {
    mkdir -p "$STATE"
    local tls=0 sasl=0
    for a in "$@"; do
        case "$a" in
            --tls) tls=1 ;;
            --sasl) sasl=1 ;;
            *) log "unknown option $a"; exit 2 ;;
        esac
    done
    start_tansu tansu "$PORT" "$PORT"
    log "tansu $TANSU_VERSION answers on 127.0.0.1:$PORT (pid $(pid_of tansu))"
    echo "KPROD_REAL_BROKER=127.0.0.1:$PORT"
    if [ $tls -eq 1 ]; then
        start_tls
        log "TLS endpoint answers on 127.0.0.1:$TLS_PORT (socat pid $(pid_of socat-tls), broker pid $(pid_of tansu-tls-backend))"
        echo "KPROD_REAL_BROKER_TLS=127.0.0.1:$TLS_PORT"
        echo "KPROD_TLS_DIR=$STATE/tls"
    fi
    if [ $sasl -eq 1 ]; then
        start_sasl
        log "SASL/SCRAM-SHA-256 broker answers on 127.0.0.1:$SASL_PORT (pid $(pid_of tansu-sasl)), user kprod"
        echo "KPROD_REAL_BROKER_SASL=127.0.0.1:$SASL_PORT"
    fi
}

stop_one() {
    local name=$1 pid
    if pid_alive "$name"; then
        pid=$(pid_of "$name")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            [ -d "/proc/$pid" ] || break
            sleep 0.1
        done
        if [ -d "/proc/$pid" ]; then
            log "$name (pid $pid) ignored SIGTERM for 5s; sending SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
        fi
        log "stopped $name (pid $pid)"
    fi
    rm -f "$STATE/$name.pid"
}

stop() {
    for n in socat-tls tansu-tls-backend tansu-sasl-setup tansu-sasl tansu; do stop_one "$n"; done
}

status() {
    local rc=3
    for n in tansu tansu-tls-backend socat-tls tansu-sasl; do
        if pid_alive "$n"; then
            echo "$n: running (pid $(pid_of "$n"))"
            [ "$n" = tansu ] && rc=0
        else
            echo "$n: not running"
        fi
    done
    return $rc
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    install) install ;;
    start) start "$@" ;;
    stop) stop ;;
    restart) stop; start "$@" ;;
    status) status ;;
    *) echo "usage: $0 install | start [--tls] [--sasl] | stop | restart [--tls] [--sasl] | status" >&2; exit 2 ;;
esac
