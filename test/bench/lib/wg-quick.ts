// The anchor the brief measures tunlock against: the kill switch of wg-quick(8)'s man page, its PostUp
//   iptables -I OUTPUT ! -o %i -m mark ! --mark $(wg show %i fwmark) -m addrtype ! --dst-type LOCAL -j REJECT
// (and the same with ip6tables), written as the same nft rule (this machine has no iptables), with the fwmark
// wg-quick gives the tunnel's own packets when it routes everything through it.
export const WG_FWMARK = 51820;

/** The kill switch for interface `iface`: one rule on OUTPUT, IPv4 and IPv6. */
export function wgQuickKillSwitch(iface: string): string {
  return [
    'table inet wgquick_killswitch {',
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    `\t\toifname != "${iface}" meta mark != ${WG_FWMARK} fib daddr type != local reject`,
    '\t}',
    '}',
    '',
  ].join('\n');
}
