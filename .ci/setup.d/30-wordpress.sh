#!/usr/bin/env bash
# A real WordPress on loopback for tests/channels/test_wordpress.py (see that setup script).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
if ! dpkg-query -W -f='${Status}' wordpress 2>/dev/null | grep -q "install ok installed"; then
  apt-get update -q
fi
bash tests/servers/wordpress/setup.sh >/dev/null
