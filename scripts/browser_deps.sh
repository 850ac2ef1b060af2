#!/usr/bin/env bash
# Make sure Debian's chromium is present for the browser tests (Playwright drives /usr/bin/chromium).
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) && exit 0
  echo "apt-get could not install chromium" >&2
else
  echo "No /usr/bin/chromium and no root apt-get: browser tests will be skipped (install Debian's chromium to run them)."
fi
if [ "${CI:-}" = true ]; then echo "CI=true needs chromium for the browser tests" >&2; exit 1; fi
exit 0
