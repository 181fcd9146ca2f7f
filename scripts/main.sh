#!/usr/bin/env bash
# Set-up, build, and the main job: list every domain of the test hypervisor with the
# virsh-compatible CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release >/dev/null
exec build/release/tools/virtpp -c test:///default list --all
