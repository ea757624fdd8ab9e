#!/usr/bin/env bash
# The container scenario of docker/ci.sh (which builds $IMAGE and the base images first).
#
# Every container joins one network namespace (the "pod", started with --network none): the
# compose services find each other as on compose's network (`postgres` is 127.0.0.1 there,
# the portal is on :8080), the testbed's simulated port area listens on that loopback, and
# nothing can reach or be reached from outside it. Each compose service runs as
# docker/compose_run.py derives it from compose.yaml: user, read-only root, tmpfs, dropped
# capabilities, no-new-privileges, environment and env_file, volumes, restart policy, stop
# grace period, health check, command.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${IMAGE:?}" "${CACHE:?}" "${POSTGRES_STANDIN:?}"
PROJECT=exposure-ci
POD=$PROJECT-pod
PY=""
for candidate in .venv/bin/python python3; do # PyYAML: the test extra has it (make test)
    if "$candidate" -c 'import yaml' 2>/dev/null; then PY=$candidate; break; fi
done
[[ -n "$PY" ]] || { echo "[docker/scenario] needs a Python with PyYAML (make .venv/bin/.installed)" >&2; exit 1; }

log() { printf '[docker/scenario] %s\n' "$*" >&2; }
now() { date +%s; }
FAILED=0
PASSED=0
check() { # DESCRIPTION COMMAND...: one line per check, the scenario fails at the end
    local what=$1
    shift
    if "$@"; then
        printf '[docker/scenario] ok    %s\n' "$what"
        PASSED=$((PASSED + 1))
    else
        printf '[docker/scenario] FAIL  %s\n' "$what"
        FAILED=$((FAILED + 1))
    fi
}

cleanup() {
    local ids vols
    mapfile -t ids < <(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    [[ ${#ids[@]} -eq 0 ]] || docker rm -f "${ids[@]}" >/dev/null 2>&1 || true
    mapfile -t vols < <(docker volume ls -q --filter "name=^${PROJECT}_")
    [[ ${#vols[@]} -eq 0 ]] || docker volume rm "${vols[@]}" >/dev/null 2>&1 || true
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/exposure-docker.XXXXXX")
finish() {
    local rc=$?
    if [[ $rc -ne 0 || $FAILED -ne 0 ]]; then
        for c in $(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"); do
            log "--- last log lines of $(docker inspect -f '{{.Name}}' "$c")"
            docker logs --tail 15 "$c" 2>&1 | cut -c1-400 >&2 || true
        done
    fi
    cleanup
    rm -rf "$WORK"
}
trap finish EXIT
cleanup

compose_run() { # SERVICE [--name N] [--detach] [-- COMMAND...]
    EXPOSURE_IMAGE=$IMAGE POSTGRES_IMAGE=$POSTGRES_STANDIN \
        "$PY" docker/compose_run.py --project-directory "$WORK" --project-name "$PROJECT" \
        --network "container:$POD" "$@"
}
cli() { compose_run cli --name "$PROJECT-cli-$RANDOM" -- "$@"; }
cli_env() { # KEY=VALUE... -- COMMAND...: `docker compose run -e KEY=VALUE cli COMMAND`
    local envs=()
    while [[ $1 != -- ]]; do envs+=(-e "$1"); shift; done
    shift
    compose_run cli --name "$PROJECT-cli-$RANDOM" "${envs[@]}" -- "$@"
}
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1"; }
wait_healthy() { # TIMEOUT CONTAINER...
    local deadline=$(($(now) + $1)) c
    shift
    for c in "$@"; do
        while [[ "$(health "$c")" != healthy ]]; do
            if [[ $(now) -ge $deadline || "$(docker inspect -f '{{.State.Status}}' "$c")" == exited ]]; then
                log "$c is $(health "$c") ($(docker inspect -f '{{json .State.Health}}' "$c" | cut -c1-600))"
                return 1
            fi
            sleep 2
        done
    done
}
in_pod_python() { # run python in the image, in the pod, unprivileged; script on stdin
    docker run --rm -i --network "container:$POD" --user 10001:10001 --read-only --cap-drop ALL \
        --label "com.docker.compose.project=$PROJECT" -v "$WORK/out:/work:ro" \
        --entrypoint python "$IMAGE" - "$@"
}

T0=$(now)
# --- the pod and the testbed ---------------------------------------------------------------
docker run -d --name "$POD" --label "com.docker.compose.project=$PROJECT" --network none \
    --add-host postgres:127.0.0.1 --read-only --cap-drop ALL --user 10001:10001 \
    --entrypoint python "$IMAGE" -c 'import signal; signal.pause()' >/dev/null

mkdir -p "$WORK/data" "$WORK/out"
chmod 755 "$WORK" "$WORK/out"
chown 10001:10001 "$WORK/data"
# The testbed (the demo port area) writes its CA bundle and member list into ./data, which the
# compose services mount read-only at /data.
docker run -d --name "$PROJECT-testbed" --label "com.docker.compose.project=$PROJECT" \
    --network "container:$POD" --user 10001:10001 --read-only --cap-drop ALL --tmpfs /tmp \
    -e TMPDIR=/data -v "$WORK/data:/data" --entrypoint python "$IMAGE" \
    -m exposure.testbed --area demo --info /data/testbed.json --members /data/members.csv >/dev/null
for _ in $(seq 1 120); do [[ -s "$WORK/data/testbed.json" ]] && break; sleep 1; done
[[ -s "$WORK/data/testbed.json" ]] || { log "the testbed did not start"; exit 1; }

# docker/.env of this project directory: the password and the testbed's settings
"$PY" - "$WORK" <<'EOF'
import json, secrets, sys
from pathlib import Path
work = Path(sys.argv[1])
info = json.loads((work / "data" / "testbed.json").read_text())
lines = [f"POSTGRES_PASSWORD={secrets.token_hex(16)}"]
lines += [f"{k}={v}" for k, v in sorted(info["env"].items())]
lines.append(f"EXPOSURE_SHODAN_API_KEY={info['shodan_api_key']}")
lines.append("EXPOSURE_NIGHTLY_CRON=")  # no nightly run of its own during the scenario
(work / ".env").write_text("\n".join(lines) + "\n")
EOF
log "testbed up ($(($(now) - T0)) s): $(grep -c . "$WORK/data/members.csv") lines of members.csv"

# --- the compose services ------------------------------------------------------------------
compose_run postgres --name "$PROJECT-postgres" --detach >/dev/null
check "postgres turns healthy (pg_isready)" wait_healthy 90 "$PROJECT-postgres"
check "migrate exits 0" compose_run migrate --name "$PROJECT-migrate"
for i in 1 2; do compose_run worker --name "$PROJECT-worker-$i" --detach >/dev/null; done
compose_run portal --name "$PROJECT-portal" --detach >/dev/null

# --- the one-off cli: import and a distributed scan ----------------------------------------
check "cli: targets import /data/members.csv" cli targets import /data/members.csv
T1=$(now)
set +e
cli scan --distributed --wait >"$WORK/scan1.out" 2>"$WORK/scan1.err"
SCAN_RC=$?
set -e
SCAN_SECONDS=$(($(now) - T1))
check "cli: scan --distributed --wait exits 0 (took $SCAN_SECONDS s; exit $SCAN_RC)" test "$SCAN_RC" -eq 0
cli findings --format json >"$WORK/out/findings.json" 2>"$WORK/findings.err" || true
chmod 644 "$WORK/out/findings.json"
check "the run has the demo area's expected findings (exposure.testbed.area_demo.EXPECTED)" \
    in_pod_python <<'EOF'
import json
from exposure.testbed.area_demo import EXPECTED
found = {}
for f in json.load(open("/work/findings.json")):
    found.setdefault(f["company_id"], set()).add(f["check_id"])
missing = {c: sorted(ids - found.get(c, set())) for c, ids in EXPECTED.items() if ids - found.get(c, set())}
print(f"    {sum(len(v) for v in found.values())} findings for {len(found)} companies; missing: {missing or 'none'}")
raise SystemExit(1 if missing else 0)
EOF

# --- the containers themselves -------------------------------------------------------------
check "workers and portal turn healthy (their compose health checks)" \
    wait_healthy 150 "$PROJECT-worker-1" "$PROJECT-worker-2" "$PROJECT-portal"
check "the portal answers on :8080 with its security headers" in_pod_python <<'EOF'
import http.client
c = http.client.HTTPConnection("127.0.0.1", 8080, timeout=10)
c.request("GET", "/meldpunt/login")
r = c.getresponse()
h = {k.lower(): v for k, v in r.getheaders()}
want = ["content-security-policy", "strict-transport-security", "x-content-type-options",
        "referrer-policy", "cache-control"]
missing = [k for k in want if k not in h]
print(f"    GET /meldpunt/login: {r.status}; missing headers: {missing or 'none'}")
raise SystemExit(1 if r.status != 200 or missing or "frame-ancestors 'none'" not in h["content-security-policy"] else 0)
EOF
uids_ok() {
    local c uid
    for c in "$PROJECT-worker-1" "$PROJECT-worker-2" "$PROJECT-portal"; do
        uid=$(docker exec "$c" sh -c 'grep ^Uid: /proc/1/status' | awk '{print $2}')
        [[ "$uid" == 10001 ]] || { log "$c runs as uid $uid"; return 1; }
    done
}
check "workers and portal run as uid 10001" uids_ok
nothing_written() {
    local c changes
    for c in "$PROJECT-worker-1" "$PROJECT-worker-2" "$PROJECT-portal"; do
        [[ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$c")" == true ]] || return 1
        # the mount points docker itself makes for the volumes are not the program's writes
        changes=$(docker diff "$c" | awk -v mounts="$(docker inspect -f \
            '{{range .Mounts}}{{.Destination}} {{end}}' "$c")" '
            BEGIN { n = split(mounts, m, " ") }
            { for (i = 1; i <= n; i++) if ($2 == m[i] || ($1 == "C" && index(m[i], $2 "/") == 1)) next; print }')
        [[ -z "$changes" ]] || { log "$c wrote: $changes"; return 1; }
    done
}
check "workers and portal write nothing outside their volumes (read-only root, docker diff empty)" nothing_written

# the one-off commands write into the named volumes, as uid 10001 (reports, outbox)
check "cli: report --output /var/lib/exposure/reports/ (the reports volume)" \
    cli report --company 58120001 --output /var/lib/exposure/reports/58120001.html
check "cli: warn --outbox /var/lib/exposure/outbox (the outbox volume)" cli_env \
    "EXPOSURE_MELDPUNT_NAME=Meldpunt CI" EXPOSURE_MELDPUNT_EMAIL=meldpunt@example.nl \
    EXPOSURE_MELDPUNT_PHONE=010-1234567 EXPOSURE_MELDPUNT_URL=https://meldpunt.example.nl \
    -- warn --outbox /var/lib/exposure/outbox
volumes_hold() {
    local n
    n=$(docker run --rm --label "com.docker.compose.project=$PROJECT" --network none \
        -v "${PROJECT}_outbox:/o:ro" -v "${PROJECT}_reports:/r:ro" --entrypoint sh "$IMAGE" \
        -c 'ls /o/*.eml | wc -l; test -s /r/58120001.html')
    log "outbox volume: $n messages"
    [[ $n -gt 0 ]]
}
check "the volumes hold the report and the warnings" volumes_hold

busy() { # CONTAINER SINCE: wait until the worker runs a scan job started after SINCE (epoch s)
    local deadline=$(($(now) + 30))
    while [[ $(now) -lt $deadline ]]; do
        docker logs --since "$2" "$1" 2>&1 | grep -q '"action":"start_job".*scan_company' && return 0
        sleep 0.2
    done
    return 1
}

# --- a killed worker is replaced, and the run still completes ------------------------------
T2=$(now)
cli scan --distributed --wait >"$WORK/scan2.out" 2>"$WORK/scan2.err" &
SCAN2=$!
busy "$PROJECT-worker-1" "$T2" || log "worker-1 took no job within 30 s: killed idle"
kill -9 "$(docker inspect -f '{{.State.Pid}}' "$PROJECT-worker-1")"
set +e
wait "$SCAN2"
SCAN2_RC=$?
set -e
replaced() {
    [[ "$(docker inspect -f '{{.RestartCount}} {{.State.Running}}' "$PROJECT-worker-1")" == "1 true" ]]
}
check "a killed worker (SIGKILL) is restarted by its restart policy" replaced
if { docker logs --since "$T2" "$PROJECT-worker-1"; docker logs --since "$T2" "$PROJECT-worker-2"; } 2>&1 \
    | grep -q '"action":"stalled_job_retried"'; then
    log "the killed worker's jobs were put back in the queue by the other worker (stalled_job_retried)"
fi
check "the run during which it was killed completes (exit $SCAN2_RC, $(($(now) - T2)) s)" test "$SCAN2_RC" -eq 0

# --- docker stop ends a worker within its grace period, without losing a job ---------------
T3=$(now)
cli scan --distributed --wait >"$WORK/scan3.out" 2>"$WORK/scan3.err" &
SCAN3=$!
busy "$PROJECT-worker-2" "$T3" || log "worker-2 took no job within 30 s: stopped idle"
TS=$(now)
docker stop "$PROJECT-worker-2" >/dev/null
STOP_SECONDS=$(($(now) - TS))
graceful() {
    local code
    code=$(docker inspect -f '{{.State.ExitCode}}' "$PROJECT-worker-2")
    [[ $STOP_SECONDS -lt 45 && "$code" != 137 ]] || { log "exit $code after $STOP_SECONDS s"; return 1; }
}
check "docker stop ends a worker within its 45 s grace period ($STOP_SECONDS s, no SIGKILL)" graceful
set +e
wait "$SCAN3"
SCAN3_RC=$?
set -e
check "the run during which it stopped completes on the other worker (exit $SCAN3_RC, $(($(now) - T3)) s)" \
    test "$SCAN3_RC" -eq 0
cli runs >"$WORK/runs.out" 2>&1 || true

log "scenario took $(($(now) - T0)) s"
printf 'docker: %d passed, %d failed\n' "$PASSED" "$FAILED"
if [[ $FAILED -ne 0 ]]; then
    for f in scan1 scan2 scan3; do
        log "--- $f.err"
        tail -5 "$WORK/$f.err" | cut -c1-400 >&2 || true
    done
    log "$FAILED check(s) failed"
    exit 1
fi
log "every check passed"
