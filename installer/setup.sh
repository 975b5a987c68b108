#!/bin/sh
# The one set-up command (`sudo npm run setup`, or `sudo sh installer/setup.sh` on a machine without npm
# scripts yet): Debian packages, npm dependencies, build, install, start. Safe to re-run (upgrades in place).
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "tunlock setup: run as root (sudo npm run setup): it installs a root daemon and firewall rules" >&2
  exit 1
fi
if command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables iproute2 wireguard-tools >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "tunlock setup: Node.js 20 or newer is needed (Debian 13: apt-get install nodejs npm)" >&2
  exit 1
fi
npm ci --no-audit --no-fund
npm run build
node host/dist/tunlock-install.js install "$@"
echo
echo "Installed. Next: load the extension (README: The browser extension; built in extension/dist/chrome and extension/dist/firefox), then run: tunlock doctor"
