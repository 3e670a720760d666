#!/usr/bin/env bash
# Runs a real single-node Apache Kafka 3.9.2 broker (KRaft) on 127.0.0.1:9092 without Docker:
# the jars come from Maven Central through deploy/kafka/pom.xml, and this script does what
# Kafka's bin/kafka-storage.sh and bin/kafka-server-start.sh would do.
#   broker.sh fetch|start|stop|status|start-secure|stop-secure|status-secure
# Every verb is idempotent. State lives in .kafka/ (git-ignored).
# The -secure verbs run a second, secured broker (SASL/SCRAM-SHA-512 over TLS, ACLs) on
# 127.0.0.1:9094 (controller 9095), state in .kafka-secure/: see secure_material below and
# docs/operations.md "A secured broker, locally".
# A second, private broker (the fault suite stops and starts one without touching the shared
# one) takes its ports and state from the environment:
#   STORYWIRE_BROKER_PORT (9092), STORYWIRE_CONTROLLER_PORT (9093),
#   STORYWIRE_KAFKA_DIR (.kafka: data, logs, pid), STORYWIRE_KAFKA_LIBS ($STORYWIRE_KAFKA_DIR/libs,
#   so a private broker can reuse jars already fetched).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
verb="${1:-}"
secure=0; template="$here/server.properties"; default_port=9092; default_controller=9093
default_dir="$root/.kafka"
if [[ $verb == *-secure ]]; then
  secure=1; template="$here/server-secure.properties"; default_port=9094
  default_controller=9095; default_dir="$root/.kafka-secure"
  export STORYWIRE_KAFKA_LIBS="${STORYWIRE_KAFKA_LIBS:-$root/.kafka/libs}"
fi
kafka_dir="${STORYWIRE_KAFKA_DIR:-$default_dir}"
libs="${STORYWIRE_KAFKA_LIBS:-$kafka_dir/libs}"
data="$kafka_dir/data"
logs="$kafka_dir/logs"
conf="$kafka_dir/server.properties"
pidfile="$kafka_dir/broker.pid"
host=127.0.0.1
port="${STORYWIRE_BROKER_PORT:-$default_port}"
controller_port="${STORYWIRE_CONTROLLER_PORT:-$default_controller}"
secure_dir="$kafka_dir/secure"
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
  scram=()
  if ((secure)); then
    secure_material
    # shellcheck source=/dev/null
    source "$secure_dir/credentials.env"
    for user in $SECURE_USERS; do
      password_var="PASSWORD_${user^^}"
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=${!password_var}]")
    done
  fi
  sed -e "s#@LOG_DIRS@#$data#" -e "s#@BROKER_PORT@#$port#g" \
    -e "s#@CONTROLLER_PORT@#$controller_port#g" -e "s#@SECURE_DIR@#$secure_dir#g" \
    -e "s#@ADMIN_PASSWORD@#${PASSWORD_ADMIN:-}#g" "$template" > "$conf"
  chmod 600 "$conf"
  if [[ ! -f $data/meta.properties ]]; then
    cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" "${scram[@]}" \
      >"$logs/format.log" 2>&1 \
      || { echo "broker: formatting storage failed:" >&2; tail -n 20 "$logs/format.log" >&2; exit 1; }
  fi
  nohup java "${java_args[@]}" kafka.Kafka "$conf" >"$logs/stdout.log" 2>&1 &
  echo $! >"$pidfile"
  for ((i = 0; i < start_timeout * 2; i++)); do
    if ! running; then break; fi
    if port_open && grep -q "Kafka Server started" "$logs/server.log" 2>/dev/null; then
      if ((secure)); then secure_acls; fi
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

# --- the secured broker --------------------------------------------------------------------
# One SCRAM user a role: admin (super user: topics, ACLs, the broker itself), ingest (writes
# articles.raw), reader (tail and audit: reads stories, stories.members, dlq.*, articles.raw) and one principal
# a stage, which reaches only its own topics, consumer group and faust internal topics.
SECURE_USERS="admin ingest reader clean enrich cluster"
topic_prefix="${STORYWIRE_TOPIC_PREFIX:-}"
group_prefix="${STORYWIRE_GROUP_PREFIX:-storywire}"

# A CA and a broker certificate (SAN 127.0.0.1 and localhost), and a random password a user,
# made once into the state dir: $secure_dir/ca.pem is what clients trust
# (STORYWIRE_SSL_CAFILE), $secure_dir/credentials.env holds the passwords (mode 600).
secure_material() {
  mkdir -p "$secure_dir"; chmod 700 "$secure_dir"
  if [[ ! -f $secure_dir/ca.pem ]]; then
    command -v openssl >/dev/null || { echo "broker: openssl not found" >&2; exit 1; }
    ( cd "$secure_dir"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 365 \
        -subj "/CN=storywire local CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr \
        -subj "/CN=localhost" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > broker.ext
      openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
        -out broker.pem -extfile broker.ext 2>/dev/null
      cat broker.key broker.pem > broker-keystore.pem
      chmod 600 ./*.key broker-keystore.pem )
  fi
  if [[ ! -f $secure_dir/credentials.env ]]; then
    ( umask 077
      for user in $SECURE_USERS; do
        echo "PASSWORD_${user^^}=$(openssl rand -hex 16)"
      done > "$secure_dir/credentials.env" )
  fi
  # The admin's client config, for Kafka's own tools (kafka-acls, kafka-configs, ...).
  # shellcheck source=/dev/null
  source "$secure_dir/credentials.env"
  ( umask 077; cat > "$secure_dir/admin.properties" <<EOF_ADMIN
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$PASSWORD_ADMIN";
ssl.truststore.type=PEM
ssl.truststore.location=$secure_dir/ca.pem
EOF_ADMIN
  )
}

acl() {
  java_cmd kafka.admin.AclCommand --bootstrap-server "$host:$port" \
    --command-config "$secure_dir/admin.properties" --add --force "$@" >>"$logs/acls.log" 2>&1 \
    || { echo "broker: adding ACLs failed ($*):" >&2; tail -n 20 "$logs/acls.log" >&2; exit 1; }
}

# The ACLs, for the topic prefix and group prefix in the environment (STORYWIRE_TOPIC_PREFIX,
# STORYWIRE_GROUP_PREFIX). Adding an ACL that exists changes nothing, so every start re-adds.
secure_acls() {
  local t="$topic_prefix" g="$group_prefix"
  # Everyone may see storywire's topics exist (workers and ingest check which to create).
  local everything=(--topic '*')  # without a topic prefix, storywire's topics are any topic
  [[ -n $t ]] && everything=(--resource-pattern-type prefixed --topic "$t")
  acl "${everything[@]}" --operation Describe --operation DescribeConfigs \
    --allow-principal User:ingest --allow-principal User:reader --allow-principal User:clean \
    --allow-principal User:enrich --allow-principal User:cluster
  acl --allow-principal User:ingest --operation Write --topic "${t}articles.raw"
  acl --allow-principal User:reader --operation Read --topic "${t}stories" --topic "${t}stories.members" \
    --topic "${t}articles.raw"
  acl --allow-principal User:reader --operation Read --resource-pattern-type prefixed \
    --topic "${t}dlq." --group "$g-reader"
  acl --allow-principal User:clean --operation Read --topic "${t}articles.raw"
  acl --allow-principal User:clean --operation Write --topic "${t}articles.clean" --topic "${t}dlq.clean"
  acl --allow-principal User:enrich --operation Read --topic "${t}articles.clean"
  acl --allow-principal User:enrich --operation Write --topic "${t}articles.enriched" --topic "${t}dlq.enrich"
  acl --allow-principal User:cluster --operation Read --topic "${t}articles.enriched" --topic "${t}cluster.ticks"
  acl --allow-principal User:cluster --operation Write --topic "${t}stories" --topic "${t}stories.members" \
    --topic "${t}dlq.cluster" --topic "${t}cluster.ticks"
  # A stage's consumer group and faust's topics named after it (table changelogs, assignor).
  for stage in clean enrich cluster; do
    acl --allow-principal "User:$stage" --operation All --resource-pattern-type prefixed \
      --topic "$g-$stage" --group "$g-$stage"
  done
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

case "$verb" in
  fetch) fetch ;;
  start|start-secure) start ;;
  stop|stop-secure) stop ;;
  status|status-secure) status ;;
  *) echo "usage: $0 fetch|start|stop|status|start-secure|stop-secure|status-secure" >&2; exit 2 ;;
esac
