#!/bin/sh
# tunlock hook for wg-quick. In /etc/wireguard/IFACE.conf, [Interface]:
#   PostUp = /usr/local/lib/tunlock/hooks/wg-quick.sh up %i
#   PreDown = /usr/local/lib/tunlock/hooks/wg-quick.sh down %i
# PreDown runs only on `wg-quick down` (a deliberate disconnect), so it releases an "on" lock; a crashed
# tunnel never runs it and stays blocked. The hook never fails wg-quick: errors are logged and ignored.
TUNLOCK=${TUNLOCK_BIN:-@TUNLOCK@}

log() {
	echo "tunlock hook (wg-quick): $*" >&2
	command -v logger >/dev/null 2>&1 && logger -t tunlock-hook -- "wg-quick: $*"
	return 0
}

action=$1
iface=$2
case "$iface" in
'' | -* | *[!A-Za-z0-9_.=+-]*)
	log "refusing interface name '$iface'"
	exit 0
	;;
esac
case "$action" in
up) set -- tunnel up "$iface" ;;
down) set -- tunnel down "$iface" --intentional ;;
*)
	log "usage: wg-quick.sh up|down IFACE"
	exit 0
	;;
esac
out=$("$TUNLOCK" "$@" 2>&1) || log "tunlock $* failed: $out"
exit 0
