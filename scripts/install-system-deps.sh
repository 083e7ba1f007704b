#!/usr/bin/env bash
# Installs what the end-to-end template tests need on a Debian bookworm machine, as root.
# Idempotent: safe to run again on a machine where everything is already installed.
#
#   apt:  podman + runc (containers; rootful, runc runtime, host network), debootstrap (the
#         local base image: no registry is reachable), jq (the gh stand-in's --jq), git, curl,
#         nodejs only if no `node` is on PATH (act runs the node20 cache stand-in with it),
#         postgresql (the team-stack tests start their own cluster as the postgres user: tools/servers).
#         podman's recommends bring slirp4netns/uidmap/fuse-overlayfs; rootful use needs none.
#         `podman kube play` (the Kubernetes manifests' test) also needs netavark (its pods' bridge network)
#         and catatonit (it builds the pods' pause image from it): named, as recommends may be off.
#         netavark sets up port forwarding with iptables (`podman run -p` fails with "netavark: No such file
#         or directory" without it).
#   conf: /etc/containers/containers.conf  [containers] default_ulimits = []
#         (without it runc fails here: "error setting rlimit type 7: operation not permitted").
# Python tools (act, actionlint, hadolint, zizmor) come from requirements-dev.txt. Root is needed only when
# something is missing.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

packages=(podman runc netavark iptables catatonit debootstrap jq git curl ca-certificates postgresql)
command -v node > /dev/null || packages+=(nodejs)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
done
conf=/etc/containers/containers.conf
if [ "${#missing[@]}" -eq 0 ] && grep -q '^[[:space:]]*default_ulimits' "$conf" 2> /dev/null; then
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo > /dev/null; then
        echo "install-system-deps.sh: missing ${missing[*]:-the podman ulimits setting}; run it as root (apt-get)" >&2
        exit 1
    fi
    sudo=(sudo)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

"${sudo[@]}" mkdir -p /etc/containers
if ! grep -q '^[[:space:]]*default_ulimits' "$conf" 2> /dev/null; then
    if grep -q '^\[containers\]' "$conf" 2> /dev/null; then
        "${sudo[@]}" sed -i 's/^\[containers\]/[containers]\ndefault_ulimits = []/' "$conf"
    else
        printf '\n[containers]\ndefault_ulimits = []\n' | "${sudo[@]}" tee -a "$conf" > /dev/null
    fi
fi

podman --version
