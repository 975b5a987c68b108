/// <reference types="svelte" />
/** Set by the build (extension/vite.config.ts): which browser this bundle is for. */
declare const __TUNLOCK_BROWSER__: 'chrome' | 'firefox';
