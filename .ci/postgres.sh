# shellcheck shell=bash
# Start a throw-away PostgreSQL server for the test suite and export EXPOSURE_TEST_POSTGRES_URL.
#
#   source .ci/postgres.sh          # then: .venv/bin/pytest tests/exposure
#   exposure_pg_stop                # stops it early (otherwise an EXIT trap does, when possible)
#
# Works on a bare Debian/Ubuntu machine: when no PostgreSQL binaries are found it installs the
# `postgresql` package with apt-get (needs root). The cluster lives in a temp dir, listens on
# 127.0.0.1 on a free port (plus a unix socket in the same dir), runs with fsync off (it is
# thrown away), and is owned by a non-root user because postgres refuses to run as root: when
# run as root the system user `postgres` is used (created if missing) through `runuser`.
#
# The exported URL belongs to a role with CREATEDB, which the tests need: each test creates its
# own database and drops it afterwards. If EXPOSURE_TEST_POSTGRES_URL is already set (a CI
# service container, a developer's server), this script does nothing.
#
# Meant to be sourced, so it never calls `exit` and does not change the caller's shell options.

_exposure_pg_log() { printf '[postgres.sh] %s\n' "$*" >&2; }

_exposure_pg_find_bin() {
    # The directory of pg_ctl on PATH (symlinks resolved: Debian links single binaries into
    # /usr/local/bin or wraps psql), else the newest of Debian's versioned directories.
    local dir candidates=()
    if command -v pg_ctl >/dev/null 2>&1; then
        candidates+=("$(dirname "$(readlink -f "$(command -v pg_ctl)")")")
    fi
    while IFS= read -r dir; do
        candidates+=("$dir")
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
    for dir in "${candidates[@]}"; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/psql" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    return 1
}

_exposure_pg_install() {
    if [[ $(id -u) -ne 0 ]]; then
        _exposure_pg_log "PostgreSQL is not installed and we are not root: install it first"
        return 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        _exposure_pg_log "PostgreSQL is not installed and apt-get is missing: install it first"
        return 1
    fi
    _exposure_pg_log "installing PostgreSQL with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

_exposure_pg_free_port() {
    # A port nobody listens on; pg_ctl start is retried on a new port if we lose a race.
    local port tries
    for tries in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# Run a command as the cluster's owner (root cannot run postgres).
_exposure_pg_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$EXPOSURE_PG_OWNER" -- "$@"
    else
        "$@"
    fi
}

exposure_pg_stop() {
    # Stop the server this script started and remove its directory. Safe to call twice.
    if [[ -n "${EXPOSURE_PG_DIR:-}" && -d "$EXPOSURE_PG_DIR" ]]; then
        if [[ -f "$EXPOSURE_PG_DIR/data/postmaster.pid" ]]; then
            _exposure_pg_as_owner "$EXPOSURE_PG_BIN/pg_ctl" -D "$EXPOSURE_PG_DIR/data" \
                -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf -- "$EXPOSURE_PG_DIR"
        _exposure_pg_log "stopped and removed $EXPOSURE_PG_DIR"
    fi
    unset EXPOSURE_PG_DIR EXPOSURE_TEST_POSTGRES_URL
}

_exposure_pg_start() {
    local bin dir port password attempt
    if [[ -n "${EXPOSURE_TEST_POSTGRES_URL:-}" ]]; then
        _exposure_pg_log "EXPOSURE_TEST_POSTGRES_URL is already set; using that server"
        return 0
    fi

    bin=$(_exposure_pg_find_bin) || { _exposure_pg_install && bin=$(_exposure_pg_find_bin); } || {
        _exposure_pg_log "no PostgreSQL binaries found (looked on PATH and in /usr/lib/postgresql)"
        return 1
    }
    EXPOSURE_PG_BIN=$bin

    EXPOSURE_PG_OWNER=$(id -un)
    if [[ $(id -u) -eq 0 ]]; then
        EXPOSURE_PG_OWNER=postgres
        if ! id -u postgres >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres \
                || { _exposure_pg_log "could not create the system user postgres"; return 1; }
        fi
    fi

    dir=$(mktemp -d "${TMPDIR:-/tmp}/exposure-pg.XXXXXX") || return 1
    EXPOSURE_PG_DIR=$dir
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$dir/pwfile"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R "$EXPOSURE_PG_OWNER": "$dir"
    fi
    chmod 700 "$dir"

    if ! _exposure_pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-locale \
        >"$dir/initdb.log" 2>&1; then
        _exposure_pg_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        exposure_pg_stop
        return 1
    fi

    for attempt in 1 2 3 4 5; do
        port=$(_exposure_pg_free_port) || break
        if _exposure_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null 2>&1; then
            break
        fi
        _exposure_pg_log "start on port $port failed (attempt $attempt)"
        port=""
    done
    if [[ -z "${port:-}" ]]; then
        _exposure_pg_log "could not start PostgreSQL; server log:"
        cat "$dir/server.log" >&2 2>/dev/null
        exposure_pg_stop
        return 1
    fi

    # The test role: a password login over TCP (as in production) and CREATEDB for the tests.
    if ! _exposure_pg_as_owner "$bin/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE exposure LOGIN CREATEDB PASSWORD '$password'" \
        -c "CREATE DATABASE exposure OWNER exposure" >/dev/null; then
        _exposure_pg_log "could not create the role and database"
        exposure_pg_stop
        return 1
    fi

    export EXPOSURE_PG_DIR EXPOSURE_PG_BIN EXPOSURE_PG_OWNER
    export EXPOSURE_TEST_POSTGRES_URL="postgresql://exposure:${password}@127.0.0.1:${port}/exposure"
    _exposure_pg_log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
    _exposure_pg_log "EXPOSURE_TEST_POSTGRES_URL=postgresql://exposure:***@127.0.0.1:${port}/exposure"

    if [[ -z "$(trap -p EXIT)" ]]; then
        trap exposure_pg_stop EXIT
        _exposure_pg_log "it stops when this shell exits (or run: exposure_pg_stop)"
    else
        _exposure_pg_log "an EXIT trap is already set; stop the server with: exposure_pg_stop"
    fi
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
    _exposure_pg_log "source this script (source .ci/postgres.sh); running it would stop the server at once"
    exit 2
fi

_exposure_pg_start
