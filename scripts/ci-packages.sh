#!/usr/bin/env bash
# What the tests need from Debian, installed in one apt-get call when absent (CI runs as root):
# PostgreSQL (the ledger tests), poppler-utils and a CJK font (the PDF test), Chromium and its
# WebDriver (the browser tests), a Java runtime (the Spark test), python3-venv (the API
# contract and the Python package). Then the Python virtualenv of the package's tests
# (target/python-venv, python/requirements-test.txt). .ci/run starts it in the background
# while fmt and clippy run, and waits for it before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
have_initdb() {
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
have_initdb || need+=(postgresql)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
probe=$(mktemp -d)
python3 -m venv "$probe/venv" >/dev/null 2>&1 || need+=(python3-venv)
rm -rf "$probe"
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
venv=target/python-venv
mkdir -p target
# a virtualenv that no longer runs (moved, or its Python gone) is made anew
"$venv/bin/python" -m pip --version >/dev/null 2>&1 || { rm -rf "$venv"; python3 -m venv "$venv"; }
"$venv/bin/python" -m pip install -q -r python/requirements-test.txt
echo "== packages ready"
