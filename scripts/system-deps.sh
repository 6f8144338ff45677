#!/usr/bin/env bash
# Installs the Debian packages sitematch and its test suite run for real: Chromium (maps in a browser,
# the dossier printed to PDF), PostgreSQL + PostGIS (plot store tests) and poppler-utils (reading
# the PDF back in tests). Skips what is already there; needs root for apt-get.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgis)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
  echo "system-deps: the tests that need them will say they were skipped and why" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
