// Read by vite-plugin-svelte and by svelte-check (npm run check:svelte).
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default { preprocess: vitePreprocess() };
