#!/usr/bin/env bash
# CI/test machines only: start Debian's dockerd in the background (no systemd here) with the runc
# wrapper this sandbox needs, unless a daemon already answers. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# kind's known issue: pods fail with "too many open files" below these inotify limits (kube-seclab doctor checks them).
for kv in max_user_watches=524288 max_user_instances=512; do
  k=${kv%%=*}; v=${kv#*=}
  [ "$(cat "/proc/sys/fs/inotify/$k")" -ge "$v" ] || sysctl -q -w "fs.inotify.$k=$v" || echo "could not raise fs.inotify.$k" >&2
done
if docker info >/dev/null 2>&1; then echo "dockerd: already running" >&2; exit 0; fi
install -m 0755 "$here/runc-wrapper.sh" /usr/local/sbin/runc-nosysresource
mkdir -p /var/log
nohup dockerd --add-runtime nosysres=/usr/local/sbin/runc-nosysresource --default-runtime nosysres \
  --host unix:///var/run/docker.sock >/var/log/kube-seclab-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "dockerd: started" >&2; exit 0; }
  sleep 1
done
echo "dockerd did not start; see /var/log/kube-seclab-dockerd.log" >&2
tail -20 /var/log/kube-seclab-dockerd.log >&2
exit 1
