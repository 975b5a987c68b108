/** Packages the bundles import at run time instead of inlining them. */
export const EXTERNAL: string[];
/** Copies koffi's loader and this platform's binary package to OUT/node_modules/. */
export function copyNativeModules(out: string): void;
