#!/usr/bin/env bash
# The local stack without Docker, for `make up` / `make down`: the three storywire workers
# (/metrics on 127.0.0.1:9401-9403, the targets of deploy/prometheus/prometheus.yml) and a
# Prometheus on 127.0.0.1:9090 (Debian's binary, run directly: not the Debian service) with
# its data in .run/prometheus. The broker is deploy/kafka/broker.sh's.
#   up.sh start|stop|status
# Every verb is idempotent. Pids and logs live in .run/local/ (git-ignored); stop ends only
# the processes whose pids this script recorded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
run="$root/.run/local"
storywire="$root/.venv/bin/storywire"
prometheus_address="${STORYWIRE_PROMETHEUS_ADDRESS:-127.0.0.1:9090}"
start_timeout="${STORYWIRE_UP_START_TIMEOUT:-120}"
stages=(clean enrich cluster)
declare -A metrics_port=([clean]=9401 [enrich]=9402 [cluster]=9403)

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# A recorded pid counts only while it still runs the command we started (pids get reused).
running() {
  local name=$1 pid
  [[ -f $run/$name.pid ]] || return 1
  pid=$(cat "$run/$name.pid")
  kill -0 "$pid" 2>/dev/null && grep -qa -- "$2" "/proc/$pid/cmdline" 2>/dev/null
}

answers() { curl -fs -o /dev/null --max-time 2 "$1"; }

wait_for() {
  local name=$1 url=$2 marker=$3
  for ((i = 0; i < start_timeout * 2; i++)); do
    if answers "$url"; then return 0; fi
    if ! running "$name" "$marker"; then
      echo "up: $name exited during start-up; its last log lines:" >&2
      tail -n 25 "$run/$name.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "up: $name did not answer $url within ${start_timeout}s; see $run/$name.log" >&2
  return 1
}

start_worker() {
  local stage=$1 port=${metrics_port[$1]}
  if running "$stage" "worker"; then
    echo "up: $stage worker already running (pid $(cat "$run/$stage.pid"))"; return 0
  fi
  if port_open "127.0.0.1:$port"; then
    echo "up: 127.0.0.1:$port is taken by another process; the $stage worker needs it" >&2
    return 1
  fi
  STORYWIRE_METRICS_PORT=$port STORYWIRE_METRICS_HOST=127.0.0.1 \
    setsid nohup "$storywire" worker "$stage" >>"$run/$stage.log" 2>&1 </dev/null &
  echo $! >"$run/$stage.pid"
  echo "up: $stage worker started (pid $!), /metrics on 127.0.0.1:$port, log $run/$stage.log"
}

start_prometheus() {
  if running prometheus "--config.file"; then
    echo "up: prometheus already running (pid $(cat "$run/prometheus.pid"))"; return 0
  fi
  command -v prometheus >/dev/null \
    || { echo "up: prometheus is not installed: run \`make prometheus-install\`" >&2; return 1; }
  if port_open "$prometheus_address"; then
    # Typically Debian's own prometheus service, which listens on :9090 once installed on a
    # host with systemd. This stack does not use it.
    echo "up: $prometheus_address is taken by another process (the Debian prometheus" \
      "service? \`sudo systemctl disable --now prometheus\`), or choose another address:" \
      "STORYWIRE_PROMETHEUS_ADDRESS=127.0.0.1:9091 make up" >&2
    return 1
  fi
  mkdir -p "$root/.run/prometheus"
  setsid nohup prometheus \
    --config.file="$root/deploy/prometheus/prometheus.yml" \
    --storage.tsdb.path="$root/.run/prometheus" \
    --web.listen-address="$prometheus_address" \
    >>"$run/prometheus.log" 2>&1 </dev/null &
  echo $! >"$run/prometheus.pid"
  wait_for prometheus "http://$prometheus_address/-/ready" "--config.file"
  echo "up: prometheus started (pid $(cat "$run/prometheus.pid")) on http://$prometheus_address" \
    "(alerts: /alerts; deploy/grafana has the dashboard for a Grafana of your own)"
}

start() {
  [[ -x $storywire ]] || { echo "up: $storywire missing: run \`make install\`" >&2; exit 1; }
  mkdir -p "$run"
  for stage in "${stages[@]}"; do start_worker "$stage"; done
  start_prometheus
  for stage in "${stages[@]}"; do
    wait_for "$stage" "http://127.0.0.1:${metrics_port[$stage]}/metrics" "worker"
  done
  echo "up: ready. Feed copy with \`.venv/bin/storywire ingest ../shared/seeds\`," \
    "watch with \`.venv/bin/storywire tail\`; \`make down\` stops it all."
}

stop_one() {
  local name=$1 marker=$2 pid
  if ! running "$name" "$marker"; then rm -f "$run/$name.pid"; echo "up: $name not running"; return 0; fi
  pid=$(cat "$run/$name.pid")
  kill -TERM "$pid"
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -f "$run/$name.pid"
  echo "up: $name stopped"
}

stop() {
  stop_one prometheus "--config.file"
  for stage in "${stages[@]}"; do stop_one "$stage" "worker"; done
}

status() {
  local rc=0
  for stage in "${stages[@]}"; do
    if running "$stage" "worker"; then echo "$stage: running (pid $(cat "$run/$stage.pid"))"
    else echo "$stage: not running"; rc=1; fi
  done
  if running prometheus "--config.file"; then
    echo "prometheus: running (pid $(cat "$run/prometheus.pid")) on http://$prometheus_address"
  else echo "prometheus: not running"; rc=1; fi
  return $rc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
