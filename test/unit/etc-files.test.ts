// One parser each for /etc/passwd, /etc/group and resolv.conf (host/src/common/etc-files.ts), used by the
// daemon, the installer and `tunlock doctor`.
import { describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd, parseResolvConf } from '../../host/src/common/etc-files.js';

describe('parsePasswd', () => {
  it('reads name, uid, gid and home; skips comments and malformed lines', () => {
    const text = [
      'root:x:0:0:root:/root:/bin/bash',
      '# a comment:x:1:1:::',
      'ann:x:1000:1000:Ann,,,:/home/ann:/bin/bash',
      'short:x:1001:1001',
      'bad:x:12a:1000::/home/bad:/bin/sh',
      'badgid:x:1002::::/bin/sh',
      '',
    ].join('\n');
    expect(parsePasswd(text)).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root' },
      { name: 'ann', uid: 1000, gid: 1000, home: '/home/ann' },
    ]);
  });
});

describe('parseGroup', () => {
  it('reads name, gid and members (none is an empty list)', () => {
    expect(parseGroup('root:x:0:\ntunlock:x:998:ann,bob\n#x:x:1:a\nbroken:x:y:ann\nshort:x:5')).toEqual([
      { name: 'root', gid: 0, members: [] },
      { name: 'tunlock', gid: 998, members: ['ann', 'bob'] },
    ]);
  });
});

describe('parseResolvConf', () => {
  it('lists nameserver values as written, nothing else', () => {
    const text = '# generated\nsearch lan\nnameserver 192.168.1.1\n  nameserver\tfe80::1%eth0 \n#nameserver 9.9.9.9\noptions edns0\nnameserver\n';
    expect(parseResolvConf(text)).toEqual(['192.168.1.1', 'fe80::1%eth0']);
  });
});
