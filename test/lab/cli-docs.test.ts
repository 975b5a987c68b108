// docs/cli.md's "Messages" table, row by row, against the real CLI (host/dist/tunlock.js) and a real tunlockd
// in a throwaway network namespace: each command, in the situation the row names, exits with the code shown
// and its stderr starts with the message shown. A row the test does not understand fails it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../host/src/cli/exit-codes';
import { DIST, REPO_ROOT, startNetnsDaemon } from '../helpers/netns-daemon';
import type { NetnsDaemon } from '../helpers/netns-daemon';
import { requireRootOrSkip } from '../helpers/root';

const DOC = readFileSync(join(REPO_ROOT, 'docs/cli.md'), 'utf8');

interface Row {
  situation: string;
  words: string[];
  exit: number;
  stderr: string;
}

function section(title: string): string {
  const start = DOC.indexOf(`## ${title}\n`);
  expect(start, `docs/cli.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[-| ]+\|$/.test(l))
    .slice(1)
    .map((l) => l.slice(1, -1).split(' | ').map((c) => c.trim()));
}

const code = (cell: string) => /^`(.*)`$/.exec(cell)?.[1] ?? cell;

const ROWS: Row[] = tableRows(section('Messages')).map(([situation, command, exit, stderr]) => {
  const words = code(command!).split(' ');
  expect(words[0]).toBe('tunlock');
  return { situation: situation!, words: words.slice(1), exit: Number(exit), stderr: code(stderr ?? '') };
});

describe('docs/cli.md exit codes', () => {
  it('the exit-code table lists exactly the codes the CLI uses', () => {
    expect(tableRows(section('Exit codes')).map((r) => Number(r[0]))).toEqual(Object.values(EXIT));
  });
  it('the messages table covers every exit code', () => {
    expect([...new Set(ROWS.map((r) => r.exit))].sort()).toEqual(Object.values(EXIT));
  });
});

describe.runIf(requireRootOrSkip('docs/cli.md messages against the real CLI and daemon'))('docs/cli.md messages, real CLI + real daemon', () => {
  let d: NetnsDaemon;
  beforeAll(async () => {
    d = await startNetnsDaemon();
  });
  afterAll(async () => {
    await d?.stop();
  });

  const SITUATIONS: Record<string, (words: string[]) => [string, string[]]> = {
    'daemon running': (w) => [process.execPath, [join(DIST, 'tunlock.js'), '--socket', d.socket, ...w]],
    'daemon not running': (w) => [process.execPath, [join(DIST, 'tunlock.js'), '--socket', join(d.dir, 'absent.sock'), ...w]],
    // nobody, with no supplementary group: the socket (0660 root:root here, as without the group) refuses it.
    'user not in group tunlock': (w) => ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(DIST, 'tunlock.js'), '--socket', d.socket, ...w]],
  };

  it.each(ROWS.map((r) => [`${r.situation}: tunlock ${r.words.join(' ')}`, r] as const))('%s', async (_name, row) => {
    const situation = SITUATIONS[row.situation];
    expect(situation, `docs/cli.md names an unknown situation ${JSON.stringify(row.situation)}`).toBeDefined();
    const [cmd, args] = situation!(row.words);
    const r = await d.exec(cmd, args);
    // An empty message cell means nothing on stderr at all.
    const stderr = row.stderr ? r.stderr.slice(0, row.stderr.length) : r.stderr;
    expect({ exit: r.code, stderr }).toEqual({ exit: row.exit, stderr: row.stderr });
  });
});
