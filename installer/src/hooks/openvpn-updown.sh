#!/bin/sh
# tunlock hook for OpenVPN. In the client config:
#   script-security 2
#   up /usr/local/lib/tunlock/hooks/openvpn-updown.sh
#   down /usr/local/lib/tunlock/hooks/openvpn-updown.sh
# OpenVPN sets $script_type (up/down), $dev, and for down $signal (why it is going down). Only a stop the
# user asked for (SIGTERM/SIGINT: systemctl stop, Ctrl-C; or the configured --inactive timeout) is
# intentional and releases an "on" lock; a restart (ping-restart, SIGUSR1, SIGHUP, connection-reset) or an
# error keeps it. Keep `down` running as root: do not combine with `user nobody` unless the down-root plugin
# runs this script. The hook never fails OpenVPN: errors are logged and ignored.
TUNLOCK=${TUNLOCK_BIN:-@TUNLOCK@}

log() {
	echo "tunlock hook (openvpn): $*" >&2
	command -v logger >/dev/null 2>&1 && logger -t tunlock-hook -- "openvpn: $*"
	return 0
}

iface=${dev:-$1}
case "$iface" in
'' | -* | *[!A-Za-z0-9_.=+-]*)
	log "refusing interface name '$iface'"
	exit 0
	;;
esac
case "$script_type" in
up) set -- tunnel up "$iface" ;;
down)
	case "$signal" in
	sigterm | sigint | inactive) set -- tunnel down "$iface" --intentional ;;
	*) set -- tunnel down "$iface" ;;
	esac
	;;
*)
	log "called as '$script_type': use it as OpenVPN's up and down script"
	exit 0
	;;
esac
out=$("$TUNLOCK" "$@" 2>&1) || log "tunlock $* failed: $out"
exit 0
