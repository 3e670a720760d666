#!/usr/bin/env bash
# Runs a real single-node Apache Kafka 3.9.2 broker (KRaft) on 127.0.0.1:9092 without Docker:
# the jars come from Maven Central through deploy/kafka/pom.xml, and this script does what
# Kafka's bin/kafka-storage.sh and bin/kafka-server-start.sh would do.
#   broker.sh fetch|start|stop|status
# Every verb is idempotent. State lives in .kafka/ (git-ignored).
# A second, private broker (the fault suite stops and starts one without touching the shared
# one) takes its ports and state from the environment:
#   STORYWIRE_BROKER_PORT (9092), STORYWIRE_CONTROLLER_PORT (9093),
#   STORYWIRE_KAFKA_DIR (.kafka: data, logs, pid), STORYWIRE_KAFKA_LIBS ($STORYWIRE_KAFKA_DIR/libs,
#   so a private broker can reuse jars already fetched).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kafka_dir="${STORYWIRE_KAFKA_DIR:-$root/.kafka}"
libs="${STORYWIRE_KAFKA_LIBS:-$kafka_dir/libs}"
data="$kafka_dir/data"
logs="$kafka_dir/logs"
conf="$kafka_dir/server.properties"
pidfile="$kafka_dir/broker.pid"
host=127.0.0.1
port="${STORYWIRE_BROKER_PORT:-9092}"
controller_port="${STORYWIRE_CONTROLLER_PORT:-9093}"
start_timeout="${STORYWIRE_BROKER_START_TIMEOUT:-90}"

java_args=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
  -Dkafka.logs.dir="$logs" -Dlog4j.configuration="file:$here/log4j.properties" -cp "$libs/*")
java_cmd() { java "${java_args[@]}" "$@"; }

port_open() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

running() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

fetch() {
  if [[ -f $libs/.complete && $libs/.complete -nt $here/pom.xml ]]; then return 0; fi
  command -v mvn >/dev/null || { echo "broker: mvn not found; install Maven (Java 17 + mvn)" >&2; exit 1; }
  echo "broker: resolving Apache Kafka jars with Maven into $libs"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" \
    -DincludeScope=runtime
  touch "$libs/.complete"
}

start() {
  fetch
  if running && port_open; then echo "broker: already running (pid $(cat "$pidfile")) on $host:$port"; return 0; fi
  if port_open; then
    echo "broker: something else already listens on $host:$port; using it" >&2; return 0
  fi
  mkdir -p "$data" "$logs"
  sed -e "s#@LOG_DIRS@#$data#" -e "s#@BROKER_PORT@#$port#g" \
    -e "s#@CONTROLLER_PORT@#$controller_port#g" "$here/server.properties" > "$conf"
  if [[ ! -f $data/meta.properties ]]; then
    cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" >"$logs/format.log" 2>&1 \
      || { echo "broker: formatting storage failed:" >&2; tail -n 20 "$logs/format.log" >&2; exit 1; }
  fi
  nohup java "${java_args[@]}" kafka.Kafka "$conf" >"$logs/stdout.log" 2>&1 &
  echo $! >"$pidfile"
  for ((i = 0; i < start_timeout * 2; i++)); do
    if ! running; then break; fi
    if port_open && grep -q "Kafka Server started" "$logs/server.log" 2>/dev/null; then
      echo "broker: started (pid $(cat "$pidfile")) on $host:$port"; return 0
    fi
    sleep 0.5
  done
  if running; then echo "broker: did not answer within ${start_timeout}s" >&2
  else echo "broker: the broker process exited during start-up" >&2; fi
  echo "broker: its last log lines:" >&2
  { grep -E " (ERROR|FATAL) " "$logs/server.log" | tail -n 10; tail -n 15 "$logs/server.log";
    tail -n 15 "$logs/stdout.log"; } >&2 2>/dev/null || true
  stop >/dev/null 2>&1 || true
  exit 1
}

stop() {
  if ! running; then rm -f "$pidfile"; echo "broker: not running"; return 0; fi
  pid=$(cat "$pidfile")
  kill "$pid"
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$pidfile"
  echo "broker: stopped"
}

status() {
  if running && port_open; then echo "broker: running (pid $(cat "$pidfile")) on $host:$port"
  elif port_open; then echo "broker: $host:$port answers (not started by this script)"
  else echo "broker: not running"; return 3; fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
