// Who started tunlock-host. Browsers pass the caller on the command line: Chromium the extension origin
// (`chrome-extension://ID/`, plus `--parent-window=N` on Windows), Firefox the host manifest path and the
// add-on ID. The browsers already enforce `allowed_origins` / `allowed_extensions`; this is defence in depth
// against a manifest edited to list another extension. It is not a security boundary against the user
// (who can run the CLI anyway): any process may start the host with our ID.
import { CHROMIUM_ORIGIN, FIREFOX_ADDON_ID } from '../common/extension-ids.js';
import { ProtocolError } from '../protocol/schema.js';

export type Caller = { browser: 'chromium'; origin: string } | { browser: 'firefox'; addonId: string; manifest: string };

export interface AllowedCallers {
  chromiumOrigins: readonly string[];
  firefoxIds: readonly string[];
}

export const OUR_CALLERS: AllowedCallers = { chromiumOrigins: [CHROMIUM_ORIGIN], firefoxIds: [FIREFOX_ADDON_ID] };

/** Reads the caller from the host's arguments (process.argv without node and the script). */
export function identifyCaller(args: readonly string[]): Caller | null {
  const [first, second] = args;
  if (first === undefined) return null;
  if (first.startsWith('chrome-extension://')) {
    // Anything else Chromium adds is a `--flag`; an unexpected positional argument means another launcher.
    return args.slice(1).every((a) => a.startsWith('--')) ? { browser: 'chromium', origin: first } : null;
  }
  if (second !== undefined && args.length === 2 && !second.startsWith('chrome-extension://')) {
    return { browser: 'firefox', addonId: second, manifest: first };
  }
  return null;
}

/** The caller if it is ours; otherwise a not_permitted error that says what was refused. */
export function checkCaller(args: readonly string[], allowed: AllowedCallers = OUR_CALLERS): Caller {
  const caller = identifyCaller(args);
  const ok =
    caller !== null &&
    (caller.browser === 'chromium' ? allowed.chromiumOrigins.includes(caller.origin) : allowed.firefoxIds.includes(caller.addonId));
  if (caller && ok) return caller;
  const who =
    caller === null
      ? args.length === 0
        ? 'no caller (started without the browser\'s arguments)'
        : `an unrecognised command line (${describeArgs(args)})`
      : caller.browser === 'chromium'
        ? `extension origin ${JSON.stringify(caller.origin.slice(0, 200))}`
        : `Firefox add-on ${JSON.stringify(caller.addonId.slice(0, 200))}`;
  throw new ProtocolError(
    'not_permitted',
    `tunlock-host refuses ${who}: it only serves the tunlock extension`,
    'only the tunlock extension may use this native messaging host; reinstall the extension and tunlock (npm run setup) if this is it',
  );
}

function describeArgs(args: readonly string[]): string {
  const shown = args.slice(0, 4).map((a) => JSON.stringify(a.slice(0, 100)));
  return `${shown.join(' ')}${args.length > 4 ? ' …' : ''}`;
}
