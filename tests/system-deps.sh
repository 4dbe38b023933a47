#!/usr/bin/env bash
# System programs the tests drive: Debian's Chromium (browser tests) and SpamAssassin
# (the inbox test). Installed only when missing; needs root (CI and fresh machines run
# as root here). Called by .ci/run and by `make test`.
set -euo pipefail
need=""
command -v make >/dev/null 2>&1 || need="$need make"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
[ -x /usr/bin/chromium ] || need="$need chromium"
command -v spamassassin >/dev/null 2>&1 || need="$need spamassassin"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing:$need; install them (Debian: sudo apt-get install$need) and run again" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need >/dev/null
