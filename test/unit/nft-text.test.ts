// The terse text listing the nft session reads after every apply (nft-text.ts): chains with their policy and
// rule count, set names, counters, for our table only, in what nft 1.0.6 prints for `nft -t list ruleset`.
import { describe, expect, it } from 'vitest';
import { observeText } from '../../host/src/firewall/nft-text.js';

const RULESET = `table ip othertool {
	chain output {
		type filter hook output priority filter; policy accept;
		icmpv6 type { nd-router-advert, nd-neighbor-solicit,
			      nd-neighbor-advert, nd-redirect } accept
	}
}
table inet tunlock {
	counter blocked_out {
		packets 7 bytes 420
	}

	counter bind_0 {
		packets 2 bytes 120
	}

	set tunnels {
		type ifname
	}

	set lan4 {
		type ipv4_addr
		flags interval
	}

	chain output {
		type filter hook output priority filter; policy drop;
		oifname "lo" accept
		oifname @tunnels accept
		meta skuid 65534 jump bind_0
		icmpv6 type { nd-router-advert, nd-neighbor-solicit,
			      nd-neighbor-advert, nd-redirect } ip6 hoplimit 255 accept
		counter name "blocked_out" reject with icmpx admin-prohibited
	}

	chain bind_0 {
		oifname "lo" accept
		counter name "bind_0" reject with icmpx admin-prohibited
	}
}
table inet tunlock_guard { # progname nft
	flags owner

	counter blocked_out {
		packets 3 bytes 180
	}

	chain output {
		type filter hook output priority filter; policy drop;
		oifname "lo" accept
	}
}
`;

describe('observeText (terse ruleset listing)', () => {
  it('reads our table: chains with policy and rule count (wrapped rules once), sets, counters', () => {
    expect(observeText(RULESET, 'tunlock')).toEqual({
      found: true,
      guarded: false,
      shape: {
        chains: { output: { policy: 'drop', rules: 5 }, bind_0: { policy: null, rules: 2 } },
        sets: { tunnels: null, lan4: null },
        counters: ['blocked_out', 'bind_0'],
      },
      counters: { blocked_out: 7, bind_0: 2 },
      content: expect.any(String),
      elements: null,
    });
  });

  it('contents: a verdict swapped in a rule changes them (same counts); counter values do not', () => {
    const a = observeText(RULESET, 'tunlock');
    const swapped = observeText(RULESET.replace('counter name "blocked_out" reject with icmpx admin-prohibited', 'accept'), 'tunlock');
    expect(swapped.shape).toEqual(a.shape);
    expect(swapped.content).not.toBe(a.content);
    expect(observeText(RULESET.replace('packets 7 bytes 420', 'packets 9000 bytes 540000'), 'tunlock').content).toBe(a.content);
    expect(a.content).not.toContain('packets');
  });

  it('reads the owner-flagged guard table, and nothing of other tables', () => {
    const guard = observeText(RULESET, 'tunlock_guard');
    expect(guard.found).toBe(true);
    expect(guard.shape.chains).toEqual({ output: { policy: 'drop', rules: 1 } });
    expect(guard.counters).toEqual({ blocked_out: 3 });
  });

  it('a table that is not listed is not found', () => {
    expect(observeText(RULESET, 'tunlock_other').found).toBe(false);
    expect(observeText('', 'tunlock').found).toBe(false);
    expect(observeText(RULESET.replace('table inet tunlock {', 'table ip tunlock {'), 'tunlock').found).toBe(false);
  });
});
