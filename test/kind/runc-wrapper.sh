#!/bin/sh
# CI/test machines only, never the product: this sandbox's capability bounding set lacks
# CAP_SYS_RESOURCE, so runc fails to start privileged containers ("unable to apply caps").
# Registered as dockerd's default runtime, this removes CAP_SYS_RESOURCE from the OCI bundle's
# config.json (create/run) or the --process JSON (exec), then runs the real runc.
strip() {
  [ -f "$1" ] || return 0
  tmp="$1.nosysres.$$"
  jq '(if .process then .process.capabilities else .capabilities end) |= (if . then with_entries(.value |= (if type == "array" then map(select(. != "CAP_SYS_RESOURCE")) else . end)) else . end)' "$1" > "$tmp" && mv "$tmp" "$1"
}
cmd=""; bundle="."; process=""; prev=""
for a in "$@"; do
  case "$prev" in
    --bundle|-b) bundle="$a" ;;
    --process|-p) process="$a" ;;
  esac
  case "$a" in
    --bundle=*) bundle="${a#--bundle=}" ;;
    --process=*) process="${a#--process=}" ;;
    create|run|exec) [ -z "$cmd" ] && cmd="$a" ;;
  esac
  prev="$a"
done
case "$cmd" in
  create|run) strip "$bundle/config.json" ;;
  exec) [ -n "$process" ] && strip "$process" ;;
esac
exec /usr/sbin/runc "$@"
