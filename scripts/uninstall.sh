#!/usr/bin/env bash
# Removes the s3pull service and program. Keeps /etc/s3pull (config, secrets) and
# /var/lib/s3pull (the marker: a reinstall continues where it stopped) unless --purge.
# Usage: scripts/uninstall.sh [--purge] [--root DIR]
set -euo pipefail
root=""
purge=false
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2:?--root needs a folder}"; shift 2 ;;
    --purge) purge=true; shift ;;
    *) echo "uninstall.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$root" ]; then
  systemctl disable --now s3pull.service 2>/dev/null || true
fi
rm -f "$root/etc/systemd/system/s3pull.service" "$root/etc/logrotate.d/s3pull" "$root/usr/local/bin/s3pull"
rm -rf "$root/opt/s3pull"
if $purge; then
  rm -rf "$root/etc/s3pull" "$root/var/lib/s3pull" "$root/var/log/s3pull"
  [ -z "$root" ] && userdel s3pull 2>/dev/null || true
fi
[ -z "$root" ] && systemctl daemon-reload || true
echo "s3pull removed$($purge && echo ', with its config, state and logs' || echo '; /etc/s3pull and /var/lib/s3pull were kept')"
