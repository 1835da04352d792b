# shellcheck shell=bash
# RabbitMQ, with an epmd of its own (sourced by cloud.sh).
#
# Erlang starts a shared epmd daemon that outlives the broker unless one is
# already listening; so cloud.sh starts its own epmd in the foreground on a
# port of its own first, and the broker registers there.

start_rabbitmq() {
  local dir="$STATE/rabbitmq"
  mkdir -p "$dir/mnesia"
  render "$STATE/etc/rabbitmq/rabbitmq.conf" rabbitmq.conf
  echo '[].' >"$STATE/etc/rabbitmq/enabled_plugins"
  : >"$STATE/etc/rabbitmq/rabbitmq-env.conf"
  export ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
  start_process epmd epmd -address 127.0.0.1 -port "$EPMD_PORT"
  wait_until 10 epmd port_in_use "$EPMD_PORT" || die "epmd did not start; see $STATE/logs/epmd.out"
  # One scheduler without busy-waiting: the broker idles instead of spinning
  # on a 2-core machine.
  HOME="$dir" \
    RABBITMQ_CONF_ENV_FILE="$STATE/etc/rabbitmq/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$STATE/etc/rabbitmq/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$STATE/etc/rabbitmq/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$STATE/etc/rabbitmq/enabled_plugins" \
    RABBITMQ_NODENAME=shipshape@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RABBIT_PORT" \
    RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$STATE/logs" \
    RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
    RABBITMQ_SCHEDULER_BUSY_WAIT_THRESHOLD=none \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+S 1:1 -kernel inet_dist_use_interface {127,0,0,1}" \
    start_process rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server
}

wait_rabbitmq() {
  local deadline=$(($(date +%s) + 120))
  until port_in_use "$RABBIT_PORT"; do
    is_running rabbitmq || die "rabbitmq exited; see $STATE/logs/rabbitmq.out"
    (($(date +%s) < deadline)) || die "rabbitmq did not listen on $RABBIT_PORT; see $STATE/logs/rabbitmq.out"
    sleep 0.25
  done
}
