#!/bin/sh
# tunlock hook for NetworkManager, installed as /etc/NetworkManager/dispatcher.d/90-tunlock and linked
# from dispatcher.d/pre-down.d/ (pre-down events reach only scripts there). Arguments: INTERFACE ACTION.
# Only tunnel interfaces are reported (a WireGuard, tun or ppp device), for vpn-* actions too: a VPN without
# an interface of its own (policy-based IPsec, some plugins) reports its physical device on vpn-up, and a
# Wi-Fi or Ethernet device must never reach tunlockd as a "tunnel" (tunlockd refuses it too).
#   up / vpn-up               → tunlock tunnel up IFACE
#   pre-down / vpn-pre-down   → tunlock tunnel down IFACE --intentional  (NM deactivates it on purpose;
#                               a lost carrier or a crashed VPN never sends pre-down)
#   down / vpn-down           → nothing (tunlockd sees the link go; an unintended drop stays blocked)
# The hook never fails NetworkManager: errors are logged and ignored.
TUNLOCK=${TUNLOCK_BIN:-@TUNLOCK@}
SYSFS=${TUNLOCK_SYSFS:-/sys/class/net}

log() {
	echo "tunlock hook (NetworkManager): $*" >&2
	command -v logger >/dev/null 2>&1 && logger -t tunlock-hook -- "NetworkManager: $*"
	return 0
}

iface=$1
action=$2
case "$iface" in
'' | -* | *[!A-Za-z0-9_.=+-]*) exit 0 ;;
esac

# tun/tap devices have tun_flags; WireGuard says so in uevent; ppp links have type 512 (ARPHRD_PPP).
is_tunnel() {
	[ -e "$SYSFS/$1/tun_flags" ] && return 0
	grep -qs '^DEVTYPE=wireguard$' "$SYSFS/$1/uevent" && return 0
	[ "$(cat "$SYSFS/$1/type" 2>/dev/null)" = 512 ]
}

case "$action" in
up | vpn-up) set -- tunnel up "$iface" ;;
pre-down | vpn-pre-down) set -- tunnel down "$iface" --intentional ;;
*) exit 0 ;;
esac
if ! is_tunnel "$iface"; then
	case "$action" in vpn-*) log "$action for $iface ignored: it is not a tunnel interface (a VPN without its own interface cannot be locked)" ;; esac
	exit 0
fi
out=$("$TUNLOCK" "$@" 2>&1) || log "tunlock $* failed: $out"
exit 0
