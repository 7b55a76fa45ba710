#!/usr/bin/env bash
# Installs s3pull as a systemd service, from a checkout where `npm ci` has run:
#   /opt/s3pull              the program (dist/, bin/, production node_modules)
#   /usr/local/bin/s3pull    the CLI, with S3PULL_CONFIG=/etc/s3pull
#   /etc/s3pull              s3pull.yaml, sources.d/, certs/, secrets/ (kept on upgrade)
#   /var/lib/s3pull          the state file (marker and ledger), owned by the s3pull user
#   /var/log/s3pull          events.ndjson when output is a file
#   /etc/systemd/system/s3pull.service, /etc/logrotate.d/s3pull
# Usage: scripts/install.sh [--root DIR]
#   --root DIR   lay everything down under DIR (a staging root) and touch nothing else:
#                no user is created, no file ownership changed, systemd is not called.
set -euo pipefail
root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2:?--root needs a folder}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
src="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$src/dist/cli/main.js" ] || { echo "install.sh: $src/dist is missing; run 'npm ci' first" >&2; exit 1; }
staging() { [ -n "$root" ]; }
if ! staging && [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root (or use --root DIR)" >&2; exit 1; fi

app="$root/opt/s3pull"
echo "installing s3pull into ${root:-/}"
mkdir -p "$app"
rm -rf "$app/dist" "$app/bin" "$app/node_modules"
cp -a "$src/dist" "$src/bin" "$src/package.json" "$src/package-lock.json" "$src/README.md" "$app/"
mkdir -p "$app/conf" && cp -a "$src/conf/examples" "$src/conf/monitoring" "$app/conf/"
cp -a "$src/node_modules" "$app/"
(cd "$app" && npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)

mkdir -p "$root/usr/local/bin"
cat > "$root/usr/local/bin/s3pull" <<'WRAP'
#!/bin/sh
# s3pull with the service's config folder unless told otherwise.
S3PULL_CONFIG="${S3PULL_CONFIG:-/etc/s3pull}" exec /opt/s3pull/bin/s3pull "$@"
WRAP
chmod 0755 "$root/usr/local/bin/s3pull"

etc="$root/etc/s3pull"
mkdir -p "$etc/sources.d" "$etc/certs" "$etc/secrets"
if [ ! -f "$etc/s3pull.yaml" ]; then
  cp "$src/conf/examples/s3pull.yaml" "$etc/s3pull.yaml"
  echo "  wrote $etc/s3pull.yaml; add one file per log source to $etc/sources.d/ (examples in /opt/s3pull/conf/examples/)"
else
  echo "  kept the existing $etc/s3pull.yaml and sources.d/ (upgrade)"
fi
chmod 0750 "$etc" "$etc/sources.d" "$etc/certs"
chmod 0700 "$etc/secrets"
mkdir -p "$root/var/lib/s3pull" "$root/var/log/s3pull"
chmod 0700 "$root/var/lib/s3pull"
chmod 0750 "$root/var/log/s3pull"

mkdir -p "$root/etc/systemd/system" "$root/etc/logrotate.d"
cp "$src/scripts/s3pull.service" "$root/etc/systemd/system/s3pull.service"
chmod 0644 "$root/etc/systemd/system/s3pull.service"
cat > "$root/etc/logrotate.d/s3pull" <<'ROT'
/var/log/s3pull/*.ndjson {
    daily
    rotate 14
    compress
    delaycompress
    missingok
    notifempty
    postrotate
        systemctl kill --signal=HUP s3pull.service >/dev/null 2>&1 || true
    endscript
}
ROT

if staging; then
  echo "staged under $root; on the real host also: create the s3pull user, chown, systemctl daemon-reload"
  exit 0
fi
if ! id s3pull >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/s3pull --no-create-home --shell /usr/sbin/nologin s3pull
  echo "  created the system user s3pull"
fi
chown -R root:s3pull "$etc"
chown s3pull:s3pull /var/lib/s3pull /var/log/s3pull
systemctl daemon-reload
echo "done. Next: edit /etc/s3pull, check it with 's3pull validate', then 'systemctl enable --now s3pull'"
