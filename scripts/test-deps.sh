#!/usr/bin/env bash
# What the tests talk to that npm cannot install, checked before every `npm test` (pretest):
# Python's moto_server (S3, STS, instance metadata), and Debian's rsyslog with its TLS (gnutls)
# driver and its RELP input, for the syslog output tests; Debian's prometheus (prometheus and
# promtool) for the monitoring tests. Idempotent and quick when all is there;
# installs what is missing with apt-get (as root, or with sudo), or says what to do.
set -euo pipefail
if ! command -v moto_server >/dev/null; then
  echo "npm test: moto_server is missing; install it with: pip install 'moto[server]'" >&2
  exit 1
fi
missing=()
[ -x /usr/sbin/rsyslogd ] || missing+=(rsyslog)
dpkg -s rsyslog-gnutls >/dev/null 2>&1 || missing+=(rsyslog-gnutls)
dpkg -s rsyslog-relp >/dev/null 2>&1 || missing+=(rsyslog-relp)
command -v promtool >/dev/null || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "npm test: the syslog and monitoring tests need ${missing[*]} (rsyslog with its gnutls and relp modules, prometheus), and this machine has no apt-get: install them with its package manager" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "npm test: the syslog and monitoring tests need ${missing[*]}; install them once as root: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "npm test: installing ${missing[*]} for the syslog and monitoring tests" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
