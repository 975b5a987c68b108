// Reads the text of a terse `nft -t list ruleset` (what the nft session lists after every apply: ~1 ms however
// many set elements there are). nft prints one table per block, one object per line at one tab, one rule per
// line at two tabs (a long anonymous set continues on deeper-indented lines), set elements left out.
//   table inet tunlock {
//   	counter blocked_out {
//   		packets 3 bytes 180
//   	}
//   	set lan4 {
//   		type ipv4_addr
//   		flags interval
//   	}
//   	chain output {
//   		type filter hook output priority filter; policy drop;
//   		oifname "lo" accept
//   	}
//   }
import type { Observed } from './nft-verify.js';
import { TABLE_FAMILY } from './nft-rules.js';

/**
 * Our table `name` in a terse ruleset listing; `found` is false when it is not there. `content` is the table's
 * text without counter values (the tamper check compares it: a verdict swapped in a rule keeps every count).
 */
export function observeText(text: string, name: string): Observed {
  const observed: Observed = { shape: { chains: {}, sets: {}, counters: [] }, counters: {}, guarded: false, found: false, content: '', elements: null };
  const content: string[] = [];
  const head = `table ${TABLE_FAMILY} ${name} {`;
  let inTable = false;
  let block: { kind: string; name: string } | null = null;
  for (const line of text.split('\n')) {
    if (!inTable) {
      if (line === head || line.startsWith(`${head} `)) inTable = observed.found = true;
      continue;
    }
    if (line === '}') break;
    if (!(block?.kind === 'counter' && /^\t\tpackets \d+ bytes \d+$/.test(line))) content.push(line);
    const object = /^\t(chain|set|map|counter) (\S+) \{$/.exec(line);
    if (object) {
      block = { kind: object[1]!, name: object[2]! };
      if (block.kind === 'chain') observed.shape.chains[block.name] = { policy: null, rules: 0 };
      else if (block.kind === 'counter') observed.shape.counters.push(block.name);
      else observed.shape.sets[block.name] = null; // terse: elements not listed, so not counted
      continue;
    }
    if (line === '\t}') {
      block = null;
      continue;
    }
    if (!block || !/^\t\t\S/.test(line)) continue;
    if (block.kind === 'chain') {
      const chain = observed.shape.chains[block.name]!;
      const base = /^\t\ttype \S+ hook \S+ .*policy (accept|drop);/.exec(line);
      if (base) chain.policy = base[1] as 'accept' | 'drop';
      else if (!/^\t\ttype \S+ hook /.test(line)) chain.rules += 1;
    } else if (block.kind === 'counter') {
      const packets = /^\t\tpackets (\d+) /.exec(line);
      if (packets) observed.counters[block.name] = Number(packets[1]);
    }
  }
  observed.content = content.join('\n');
  return observed;
}
