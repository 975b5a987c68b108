#!/usr/bin/env bash
# The Debian package, installed for real and purged again — in a sandbox of this machine, so it is safe to
# run anywhere (a developer's machine, CI):
#   - files: a copy-on-write overlay of / (the upper layer is a tmpfs that vanishes at the end), entered with
#     chroot in a private mount namespace: dpkg, groupadd, the maintainer scripts and the daemon all see the
#     real system but change nothing in it;
#   - network: a throwaway network namespace, so the daemon the package starts, and the table removal in its
#     prerm, can never touch this machine's own firewall.
# Also: the Firefox archive passes `web-ext lint` with no errors.
# It runs twice: as on a machine without systemd (the init script starts the daemon), and as on one with it
# (/run/systemd/system present, .ci/fake-systemctl standing in for systemctl: real unit links, the unit's own
# ExecStart).
# Checks: dpkg -i succeeds with the real dependencies; the group exists; the daemon runs (started by the
# init script: no systemd here) in mode off; `tunlock doctor` reports no problem; `dpkg --purge` stops the
# daemon and leaves nothing: the file trees of /usr /etc /lib /var/lib are as before, the group is gone, no
# tunlock process is left; and this machine's own nft ruleset is unchanged.
# Usage: .ci/package-check.sh [release/tunlock_VERSION_ARCH.deb]   (as root; npm run package first)
set -euo pipefail
cd "$(dirname "$0")/.."

deb=${1:-$(ls release/tunlock_*_*.deb 2>/dev/null | head -n1)}
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  echo "package-check: no package: run npm run package first" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "package-check: needs root (mount and network namespaces)" >&2
  exit 1
fi

ns="tlpk$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d /tmp/tunlock-pkgcheck-XXXXXX)
ruleset() { nft list ruleset | sha256sum; }
cleanup() {
  # Whatever still runs in our namespace (the sandboxed daemon if a check failed) was started by us.
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The Firefox archive must pass Mozilla's linter (web-ext, fetched by npx for this check only).
xpi=$(ls release/tunlock-*-firefox.xpi | head -n1)
mkdir "$work/xpi"
(cd "$work/xpi" && unzip -q "$OLDPWD/$xpi")
npx --yes web-ext@8 lint --source-dir "$work/xpi" --output json > "$work/lint.json" 2>/dev/null || true
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const m of [...r.errors, ...r.warnings]) console.log(`  web-ext ${m._type ?? "warning"}: ${m.code} ${m.file ?? ""}: ${m.message}`);
  console.log(`web-ext lint: ${r.summary.errors} errors, ${r.summary.warnings} warnings, ${r.summary.notices} notices`);
  process.exit(r.summary.errors === 0 ? 0 : 1);
' "$work/lint.json"

before=$(ruleset)
ip netns add "$ns"
ip -n "$ns" link set lo up
cp "$deb" "$work/tunlock.deb"

# shellcheck disable=SC2016
sandbox() {
  rm -rf "$work/sandbox"
  ip netns exec "$ns" unshare --mount --propagation private bash -euo pipefail -c '
  work=$1
  mkdir "$work/sandbox"
  mount -t tmpfs tunlock-sandbox "$work/sandbox"
  mkdir "$work/sandbox/upper" "$work/sandbox/work" "$work/sandbox/root"
  root=$work/sandbox/root
  mount -t overlay tunlock-sandbox -o "lowerdir=/,upperdir=$work/sandbox/upper,workdir=$work/sandbox/work" "$root"
  mount --bind /proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  mount -t tmpfs tunlock-run "$root/run"
  mount -t tmpfs tunlock-tmp "$root/tmp"
  cp "$work/tunlock.deb" "$root/tmp/tunlock.deb"
  cp "$work/fake-systemctl" "$root/tmp/fake-systemctl"
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root INIT="$3" bash -euo pipefail -c "$2"
' package-check "$work" "$checks" "$1"
}
checks='
  tree() {
    find -H /usr /etc /lib /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache \) -prune -o -print \
      | grep -vE "^/etc/(group|gshadow|passwd|shadow|subgid|subuid)-$|^/etc/ld\.so\.cache$" | LC_ALL=C sort
  }
  running() { grep -lsa "/usr/lib/tunlock/tunlockd[.]js" /proc/[0-9]*/cmdline || true; }  # [.]: not grep itself
  step() { echo; echo "=== package-check: $*"; }

  if [ "$INIT" = systemd ]; then
    # systemd as the postinst sees it (/run/systemd/system) with a stand-in systemctl: the unit links are
    # made by the real systemctl offline, the daemon is started with the unit'"'"'s own ExecStart.
    mkdir -p /run/systemd/system
    install -m 0755 /tmp/fake-systemctl /usr/local/sbin/systemctl
  fi
  tree > /tmp/before
  find -H /usr /etc /lib /var/lib -xdev -type d -empty | LC_ALL=C sort > /tmp/empty-before
  if getent group tunlock >/dev/null; then echo "group tunlock exists before the install" >&2; exit 1; fi

  step "dpkg -i ($INIT)"
  dpkg -i /tmp/tunlock.deb
  getent group tunlock
  step "the daemon runs ($INIT) in mode off"
  if [ "$INIT" = systemd ]; then
    test -L /etc/systemd/system/multi-user.target.wants/tunlockd.service
    test -L /etc/systemd/system/sysinit.target.wants/tunlock-boot.service
    if [ -z "$(running)" ]; then echo "postinst did not start tunlockd.service" >&2; exit 1; fi
    cat /tmp/systemctl.log
  else
    if [ -z "$(running)" ]; then echo "postinst did not start tunlockd; starting it as it advised"; service tunlockd start; fi
    service tunlockd status
  fi
  tunlock status --json | tee /tmp/status.json
  grep -q "\"mode\":\"off\"" /tmp/status.json
  stat -c "%U:%G %a %n" /run/tunlock /run/tunlock/tunlockd.sock
  step "tunlock doctor"
  tunlock doctor
  step "completion and help are installed"
  test -f /usr/share/bash-completion/completions/tunlock
  test -f /usr/share/zsh/vendor-completions/_tunlock
  tunlock lock --help | head -n1

  step "dpkg --purge ($INIT)"
  dpkg --purge tunlock
  if [ -n "$(running)" ]; then echo "tunlockd still runs after purge: $(running)" >&2; exit 1; fi
  if getent group tunlock >/dev/null; then echo "group tunlock left after purge" >&2; exit 1; fi
  tree > /tmp/after
  # Left behind: anything new. Removed: only what is tunlock'"'"'s own (state an earlier tunlock left in
  # /var/lib/tunlock), or an empty directory no package owned (dpkg removes such a directory, e.g. /etc/opt,
  # once the package that shipped a path below it is purged).
  LC_ALL=C comm -13 /tmp/before /tmp/after > /tmp/added
  LC_ALL=C comm -23 /tmp/before /tmp/after | grep -vE "^/var/lib/tunlock(/|$)" | LC_ALL=C comm -23 - /tmp/empty-before > /tmp/removed || true
  if [ -s /tmp/added ] || [ -s /tmp/removed ]; then
    echo "purge did not restore the tree:" >&2
    sed "s/^/  left behind: /" /tmp/added >&2
    sed "s/^/  removed: /" /tmp/removed >&2
    exit 1
  fi
  echo "nothing left: /usr /etc /lib /var/lib as before, no group, no daemon"
'

cp .ci/fake-systemctl "$work/fake-systemctl"
sandbox none
sandbox systemd

after=$(ruleset)
if [ "$before" != "$after" ]; then
  echo "package-check: this machine's nft ruleset changed!" >&2
  exit 1
fi
echo
echo "package-check: passed (the machine's own ruleset is unchanged)"
