#!/bin/sh
# Runs before containerd starts (a systemd drop-in, see build-node-image.sh). Where the node has no
# CAP_SYS_RESOURCE (some sandboxes and nested set-ups), no process may lower an oom_score_adj and
# every pod sandbox fails with "failed to update /proc/self/oom_score_adj: Permission denied".
# There, containerd clamps pods' oom_score_adj to its own, as kind configures it in rootless mode.
# Anywhere else this changes nothing.
bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
if [ $(( (0x$bnd >> 24) & 1 )) -eq 0 ]; then
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
fi
