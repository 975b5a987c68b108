/** Bundles `entries` ({ name: entry .ts }) into OUT/name.js as host/build.mjs does, with package.json and koffi beside them. */
export function bundlePrograms(out: string, entries: Record<string, string>): Promise<void>;
