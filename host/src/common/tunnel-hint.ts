// What to tell a user whose "tunnel" is not one (daemon/link-kind.ts decides that from the kernel): the
// daemon's refusal and status warning, the CLI's status line and `tunlock doctor` all say the same words.

/** What to do about a refused interface. */
export const NOT_A_TUNNEL_HINT =
  "name the VPN's own interface (wg0, tun0, ppp0…; `ip -d link show` shows each link's kind), or remove it: tunlock tunnel remove IF. " +
  'A VPN without an interface of its own (policy-based IPsec) cannot be locked to an interface (docs/security.md).';
