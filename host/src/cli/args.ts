// argv → what to do, with node:util parseArgs: flags may stand anywhere (`tunlock status --json`), every
// unknown flag or extra word is refused (UsageError → exit 2 with the usage line). The words after `run`
// belong to the program being run and are never parsed as ours.
import { parseArgs } from 'node:util';
import type { Action, FlagSpec, FlagValues, Verb } from './verbs.js';
import { GLOBAL_FLAGS, UsageError, VERBS, findVerb } from './verbs.js';

export interface Parsed {
  verb: Verb | null;
  /** null when only help was asked for */
  action: Action | null;
  socket: string | undefined;
  json: boolean;
  help: boolean;
}

type ParseOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

function options(specs: Record<string, FlagSpec>[]): ParseOptions {
  const out: ParseOptions = {};
  for (const spec of specs) {
    for (const [name, f] of Object.entries(spec)) {
      out[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
    }
  }
  return out;
}

/** parseArgs's errors, said the way the rest of the CLI speaks. */
function usageFrom(e: unknown, verb: string | null): UsageError {
  const err = e as NodeJS.ErrnoException;
  const flag = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${flag}${verb ? ` for ${verb}` : ''}`, verb);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(/argument missing|ambiguous/.test(err.message) ? `${flag} needs a value` : `${flag} takes no value`, verb);
    default:
      throw e;
  }
}

function strict(args: string[], flags: Record<string, FlagSpec>[], verb: string | null) {
  try {
    return parseArgs({ args, options: options(flags), allowPositionals: true, strict: true });
  } catch (e) {
    throw usageFrom(e, verb);
  }
}

export function parseCommandLine(argv: string[]): Parsed {
  // First pass, lenient, with every flag any verb knows: only to find where the verb stands.
  const { tokens } = parseArgs({ args: argv, options: options([GLOBAL_FLAGS, ...VERBS.map((v) => v.flags)]), allowPositionals: true, strict: false, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional');
  const verbName = first?.kind === 'positional' ? first.value : null;
  const verb = verbName === null ? null : findVerb(verbName) ?? null;

  if (verb?.name === 'run' && first?.kind === 'positional') {
    const { values } = strict(argv.slice(0, first.index), [GLOBAL_FLAGS], 'run');
    const words = argv.slice(first.index + 1);
    // `run --help` asks for help: no program is called "--help".
    const help = (values.help === true && words.length === 0) || words[0] === '--help' || words[0] === '-h';
    return { verb, action: help ? null : verb.build(words, {}), socket: values.socket as string | undefined, json: values.json === true, help };
  }

  const { values, positionals } = strict(argv, verb ? [GLOBAL_FLAGS, verb.flags] : [GLOBAL_FLAGS], verb?.name ?? null);
  const base = { verb, socket: values.socket as string | undefined, json: values.json === true, help: values.help === true };
  if (base.help && (verb || verbName === null)) return { ...base, action: null };
  // Like --help, --version answers wherever it stands (`tunlock --version`, `tunlock status --version`).
  if (values.version === true && (verb || verbName === null)) return { ...base, action: { kind: 'version' } };
  if (verbName === null) throw new UsageError('no command given');
  if (!verb) throw new UsageError(`unknown command ${JSON.stringify(verbName)}`);
  return { ...base, action: verb.build(positionals.slice(1), values as FlagValues) };
}

function flagLines(flags: Record<string, FlagSpec>): string[] {
  return Object.entries(flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ' VALUE' : ''}`;
    return `  ${left.padEnd(22)} ${f.help}`;
  });
}

export function usage(): string {
  const width = Math.max(...VERBS.map((v) => v.usage.length));
  const verbs = VERBS.map((v) => (v.usage.length > 40 ? `  ${v.usage}\n  ${' '.repeat(42)}${v.help}` : `  ${v.usage.padEnd(Math.min(width, 40))}  ${v.help}`));
  return ['usage: tunlock [--socket PATH] [--json] COMMAND [ARGS]', ...verbs, 'options (anywhere on the line):', ...flagLines(GLOBAL_FLAGS)].join('\n');
}

/** The one line shown with a usage error. */
export function usageLine(verb: Verb | null): string {
  return verb ? `usage: tunlock ${verb.usage}` : 'usage: tunlock [--socket PATH] [--json] COMMAND [ARGS] (tunlock --help lists the commands)';
}

export function verbHelp(verb: Verb): string {
  const flags = flagLines(verb.flags);
  return [`usage: tunlock ${verb.usage}`, `  ${verb.help}`, ...(flags.length ? ['options:', ...flags] : []), 'global options:', ...flagLines(GLOBAL_FLAGS)].join('\n');
}
