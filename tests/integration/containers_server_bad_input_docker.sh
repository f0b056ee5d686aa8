#!/bin/bash
# containers_server_bad_input_docker.sh — containers_server_bad_input.sh on Docker: a private
# dockerd (lib/dockerd.bash) instead of podman, the same refusals.
CT_ENGINE=docker exec bash "$(dirname "$0")/containers_server_bad_input.sh" "$@"
