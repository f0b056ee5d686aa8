#!/bin/bash
# containers_server_peers_docker.sh — containers_server_peers.sh on Docker: a private dockerd
# (lib/dockerd.bash) instead of podman, the same checks.
CT_ENGINE=docker exec bash "$(dirname "$0")/containers_server_peers.sh" "$@"
