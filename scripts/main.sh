#!/usr/bin/env bash
# Set-up, build, and the main job: validate and print the canonical form of a shipped example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release >/dev/null
exec build/release/tools/virtpp-xml-validate --format examples/xml/kvm-guest.xml
