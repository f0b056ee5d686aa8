#!/bin/bash
# containers_server_docker.sh — containers_server.sh on Docker: a private dockerd
# (lib/dockerd.bash) instead of podman, the same server mode, client and checks.
CT_ENGINE=docker exec bash "$(dirname "$0")/containers_server.sh" "$@"
