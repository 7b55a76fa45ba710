#!/usr/bin/env bash
# The receivers the tests start that npm cannot install: Debian's rsyslog, with its TLS (gnutls)
# driver and its RELP input, for the syslog output tests. Idempotent; needs root or sudo only when something is missing.
set -euo pipefail
missing=()
[ -x /usr/sbin/rsyslogd ] || missing+=(rsyslog)
dpkg -s rsyslog-gnutls >/dev/null 2>&1 || missing+=(rsyslog-gnutls)
dpkg -s rsyslog-relp >/dev/null 2>&1 || missing+=(rsyslog-relp)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "installing ${missing[*]} for the syslog tests" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
