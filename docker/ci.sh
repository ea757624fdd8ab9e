#!/usr/bin/env bash
# docker/ci.sh: build the image from docker/Dockerfile and run every role of docker/compose.yaml
# in real containers, against the testbed, on a loopback that nothing else shares.
#
#   bash docker/ci.sh            # from .ci/run; by hand too (as root)
#
# 1. A container engine: the running one, else `dockerd` (Debian's docker.io, installed when
#    missing) started with no bridge and no iptables rules. Where none can start, one line says
#    why and the script exits 0 (the rest of CI goes on).
# 2. Stand-in base images, built once and cached (no image registry is reachable here):
#    a `debootstrap --variant=minbase bookworm` root (tarball in $EXPOSURE_DOCKER_CACHE), imported
#    as exposure-standin/debian:bookworm; from it `python:3.11-slim-bookworm` (Debian's python3
#    3.11 + venv, the machine's CA bundle) and exposure-standin/postgres:15-bookworm (Debian's
#    PostgreSQL, an entrypoint honouring POSTGRES_USER/PASSWORD/DB). A real python image
#    already on the machine is used as it is.
# 3. The project image, from docker/Dockerfile as it is (`docker build --network host`).
# 4. The scenario (docker/scenario.sh): postgres, migrate, two workers and the portal as
#    compose.yaml defines them (docker/compose_run.py derives each `docker run` from the file),
#    the testbed, and a one-off cli that imports the member list and runs
#    `scan --distributed --wait`; then the checks.
#
# Idempotent: cached base images are reused, containers and volumes of an earlier run are
# removed first. A dockerd this script started is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${EXPOSURE_DOCKER_CACHE:-/var/cache/exposure-docker}
IMAGE=${EXPOSURE_IMAGE:-exposure:ci}
PYTHON_IMAGE=python:3.11-slim-bookworm
DEBIAN_IMAGE=exposure-standin/debian:bookworm
POSTGRES_STANDIN=exposure-standin/postgres:15-bookworm
STANDIN_LABEL=org.exposure.standin
STANDIN_VERSION=1 # the label's value; docker's build cache sees changes in docker/standin/ itself

log() { printf '[docker/ci.sh] %s\n' "$*" >&2; }
skip() {
    printf '[docker/ci.sh] SKIPPED, no container engine: %s\n' "$*"
    exit 0
}
now() { date +%s; }
START=$(now)

# --- 1. the engine ---------------------------------------------------------------------------
STARTED_DOCKERD=""
stop_dockerd() {
    if [[ -n "$STARTED_DOCKERD" ]] && kill -0 "$STARTED_DOCKERD" 2>/dev/null; then
        log "stopping the dockerd this script started (pid $STARTED_DOCKERD)"
        kill "$STARTED_DOCKERD" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$STARTED_DOCKERD" 2>/dev/null || break; sleep 1; done
    fi
}

ensure_engine() {
    if ! command -v docker >/dev/null 2>&1; then # docker.io below brings the client too
        if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
            skip "no docker client, and not root with apt-get to install docker.io"
        fi
    fi
    if command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then
        log "using the running container engine"
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
            skip "dockerd is not installed and this is not root with apt-get"
        fi
        log "installing Debian's docker.io"
        if ! { apt-get update -qq && apt-get install -y -qq docker.io >/dev/null; } 2>&1; then
            skip "apt-get install docker.io failed"
        fi
    fi
    [[ $(id -u) -eq 0 ]] || skip "dockerd is not running and only root can start it"
    mkdir -p "$CACHE"
    # No bridge, no iptables: every container here runs on the host's or a pod's loopback.
    dockerd --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
        --pidfile "$CACHE/dockerd.pid" >"$CACHE/dockerd.log" 2>&1 &
    STARTED_DOCKERD=$!
    trap stop_dockerd EXIT
    for _ in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            log "started dockerd (pid $STARTED_DOCKERD, storage $(docker info -f '{{.Driver}}'))"
            return 0
        fi
        kill -0 "$STARTED_DOCKERD" 2>/dev/null || break
        sleep 1
    done
    local why
    why=$(grep -iE 'level=(error|fatal)|failed' "$CACHE/dockerd.log" | tail -1 | cut -c1-300)
    stop_dockerd
    STARTED_DOCKERD=""
    skip "dockerd did not start: ${why:-no answer within 60 s} (log: $CACHE/dockerd.log)"
}

# --- 2. stand-in base images -----------------------------------------------------------------
mirror() {
    # The Debian mirror apt uses on this machine (deb822 or one-line sources), else Debian's own.
    local uri
    uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -1 \
        | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*//')
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

is_standin() { [[ "$(docker image inspect -f "{{index .Config.Labels \"$STANDIN_LABEL\"}}" "$1" 2>/dev/null)" != "" ]]; }

ensure_debian() {
    docker image inspect "$DEBIAN_IMAGE" >/dev/null 2>&1 && return 0
    local tarball=$CACHE/debian-bookworm-minbase.tar
    if [[ ! -s "$tarball" ]]; then
        command -v debootstrap >/dev/null 2>&1 || apt-get install -y -qq debootstrap >/dev/null
        local dir t0
        dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
        t0=$(now)
        log "debootstrap --variant=minbase bookworm from $(mirror) (once; cached in $tarball)"
        debootstrap --variant=minbase bookworm "$dir" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 || {
            tail -20 "$CACHE/debootstrap.log" >&2
            rm -rf "$dir"
            return 1
        }
        # as the machine's apt: the mirror may serve a snapshot whose Release files are old
        printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
            >"$dir/etc/apt/apt.conf.d/99exposure-standin"
        rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
        tar -C "$dir" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$dir"
        log "debootstrap took $(($(now) - t0)) s"
    fi
    docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' "$tarball" "$DEBIAN_IMAGE" >/dev/null
}

build_standin() { # NAME DOCKERFILE
    local name=$1 dockerfile=$2 ctx
    ctx=$(mktemp -d)
    cp docker/standin/* "$ctx/"
    cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
    docker build --quiet --network host --label "$STANDIN_LABEL=$STANDIN_VERSION" \
        -t "$name" -f "$ctx/$dockerfile" "$ctx" >"$CACHE/standin-$dockerfile.log" 2>&1 || {
        tail -20 "$CACHE/standin-$dockerfile.log" >&2
        return 1
    }
    rm -rf "$ctx"
}

ensure_base_images() {
    local t0
    t0=$(now)
    mkdir -p "$CACHE"
    ensure_debian
    if docker image inspect "$PYTHON_IMAGE" >/dev/null 2>&1 && ! is_standin "$PYTHON_IMAGE"; then
        log "$PYTHON_IMAGE is a real image on this machine: used as it is"
    else
        build_standin "$PYTHON_IMAGE" python.Dockerfile
    fi
    build_standin "$POSTGRES_STANDIN" postgres.Dockerfile
    log "base images ready in $(($(now) - t0)) s"
}

# --- 3. the project image --------------------------------------------------------------------
build_image() {
    local t0
    t0=$(now)
    log "docker build --network host -f docker/Dockerfile -t $IMAGE ."
    docker build --network host -f docker/Dockerfile -t "$IMAGE" . >"$CACHE/build.log" 2>&1 || {
        tail -40 "$CACHE/build.log" >&2
        log "FAILED: the image does not build (log: $CACHE/build.log)"
        return 1
    }
    BUILD_SECONDS=$(($(now) - t0))
    IMAGE_MB=$(($(docker image inspect -f '{{.Size}}' "$IMAGE") / 1000000))
    log "image $IMAGE built in $BUILD_SECONDS s, $IMAGE_MB MB"
}

compose_note() {
    if docker compose version >/dev/null 2>&1; then
        POSTGRES_PASSWORD=ci docker compose -f docker/compose.yaml config --quiet
        log "docker compose config: valid; the scenario still runs the docker run lines derived from it"
    else
        log "no Docker Compose v2 here: the scenario derives each docker run from compose.yaml (docker/compose_run.py)"
    fi
}

ensure_engine
ensure_base_images
build_image
compose_note
export IMAGE CACHE POSTGRES_STANDIN
bash docker/scenario.sh
log "done in $(($(now) - START)) s (image build $BUILD_SECONDS s, $IMAGE_MB MB)"
