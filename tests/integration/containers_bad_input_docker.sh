#!/bin/bash
# containers_bad_input_docker.sh — containers_bad_input.sh on Docker: the same cases on a
# private dockerd (lib/dockerd.bash), plus Docker's own default of IPv6 off.
CT_ENGINE=docker exec bash "$(dirname "$0")/containers_bad_input.sh" "$@"
