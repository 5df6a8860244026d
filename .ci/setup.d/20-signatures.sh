#!/usr/bin/env bash
# OpenSSH's ssh-keygen/ssh-agent (signed approvals are made and checked with ssh-keygen -Y)
# and poppler's pdfsig (the signed-letter tests check signatures with it).
# Quick when already installed.
set -euo pipefail
missing=()
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v pdfsig >/dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
