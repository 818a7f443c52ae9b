//go:build tools

// Package tools pins the etcd server and etcdctl of the kind node image's etcd image (the version
// kubeadm expects). tools/kind/build-node-image.sh generates the go.mod beside it.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
