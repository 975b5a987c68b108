// The account databases and resolv.conf, parsed once for every program that reads them: the daemon (who may
// use the socket), the installer (the group it creates, the user it adds), `tunlock doctor`, and the daemon's
// captive-portal hole (this network's resolvers). Text in, records out: each caller reads the file itself,
// from its own root (the installer's --root, the doctor's fixture), so this stays pure.

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function records(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

const ID = /^\d+$/;

/** passwd(5): name:password:uid:gid:gecos:home:shell. A malformed line names nobody (skipped). */
export function parsePasswd(text: string): PasswdEntry[] {
  return records(text)
    .filter((f) => f.length >= 7 && ID.test(f[2]!) && ID.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

/** group(5): name:password:gid:member,member. A malformed line is skipped. */
export function parseGroup(text: string): GroupEntry[] {
  return records(text)
    .filter((f) => f.length >= 4 && ID.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }));
}

/** resolv.conf(5): the `nameserver` values as written (not yet validated; an IPv6 one may carry a %zone). */
export function parseResolvConf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined);
}
