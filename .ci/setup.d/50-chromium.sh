#!/usr/bin/env bash
# Debian's chromium, for the headless-browser test of the preview page
# (tests/test_preview_browser.py, driven through Playwright with executable_path).
# Quick when already installed; never downloads Playwright's own browsers.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi
