// The bash and zsh completion files know every verb and flag of the CLI's verb table, and the bash one
// completes as a shell would (run in a real bash).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GLOBAL_FLAGS, VERBS } from '../../host/src/cli/verbs';

const DIR = join(import.meta.dirname, '../../installer/src/completion');
const BASH = join(DIR, 'tunlock.bash');
const FILES = { bash: readFileSync(BASH, 'utf8'), zsh: readFileSync(join(DIR, '_tunlock'), 'utf8') };

function complete(words: string[]): string[] {
  const script = `source ${BASH}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tunlock; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('shell completion', () => {
  it.each(Object.keys(FILES) as (keyof typeof FILES)[])('%s knows every verb and flag', (shell) => {
    for (const v of VERBS) {
      expect(FILES[shell], `${shell}: verb ${v.name}`).toMatch(new RegExp(`\\b${v.name}\\b`));
      for (const f of Object.keys(v.flags)) expect(FILES[shell], `${shell}: ${v.name} --${f}`).toContain(`--${f}`);
    }
    for (const f of Object.keys(GLOBAL_FLAGS)) expect(FILES[shell]).toContain(`--${f}`);
  });

  it('bash completes verbs, then each verb\'s words, past global flags', () => {
    expect(complete(['tunlock', 'lo'])).toEqual(['lock']);
    expect(complete(['tunlock', '--socket', '/x', 'lock', ''])).toEqual(['--block-all', '--help', '--json', '--socket', 'always', 'off', 'on']);
    expect(complete(['tunlock', 'captive', '--s'])).toEqual(['--seconds', '--socket']);
    expect(complete(['tunlock', 'tunnel', 'down', 'l'])).toContain('lo');
  });
});
