#!/bin/sh
# tunlock hook for NetworkManager, installed as /etc/NetworkManager/dispatcher.d/90-tunlock and linked
# from dispatcher.d/pre-down.d/ (pre-down events reach only scripts there). Arguments: INTERFACE ACTION.
# Only VPN interfaces are reported (vpn-* actions, or a WireGuard/tun device): tunlockd adds any interface it
# is told is "up" to the tunnels, so a Wi-Fi or Ethernet "up" must never get through.
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

is_tunnel() {
	[ -e "$SYSFS/$1/tun_flags" ] && return 0
	grep -qs '^DEVTYPE=wireguard$' "$SYSFS/$1/uevent"
}

case "$action" in
vpn-up) set -- tunnel up "$iface" ;;
vpn-pre-down) set -- tunnel down "$iface" --intentional ;;
up) is_tunnel "$iface" || exit 0; set -- tunnel up "$iface" ;;
pre-down) is_tunnel "$iface" || exit 0; set -- tunnel down "$iface" --intentional ;;
*) exit 0 ;;
esac
out=$("$TUNLOCK" "$@" 2>&1) || log "tunlock $* failed: $out"
exit 0
