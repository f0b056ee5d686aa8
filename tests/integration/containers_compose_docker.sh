#!/bin/bash
# containers_compose_docker.sh — containers_compose.sh on Docker: a private dockerd
# (lib/dockerd.bash) and docker-compose 1.29 instead of podman and podman-compose, the same
# compose files and the same checks.
CT_ENGINE=docker exec bash "$(dirname "$0")/containers_compose.sh" "$@"
