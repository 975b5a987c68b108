// The identities of the tunlock extension, fixed so host manifests can name them and tunlock-host can check
// its caller. The Chromium ID is derived from the public key in the extension manifest (`key`): the first
// 128 bits of SHA-256 over the DER key, each hex digit mapped 0-f → a-p (test/unit/extension-ids.test.ts
// recomputes it). The private key is not needed: we never sign a CRX.
export const MANIFEST_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxaxdDtbgc12smuCvFel4w+gmgYwtXQqvkhe98lSpnFswLHI4rhs6HVeQUlPPO0Ix6LFq2tXQKhmDF//cr7eTCA0ntCeTjdHjdojGYiL32chD5o/zE+IedMaXvf6SlRmzDqiJajj4ZPPuP/PjOrhYK4EjYFnFkG5yNYC8e0qk8ELNs7K2ylGUtP7SI7Ak3LpuAAShHxJa/U7MXWESUKozkMsah/e7JobnPg4otJseT4bj1jD9mnuJuFMGxzUUdHM9Y1rJTYKY5IaZlNAcxuNNmM5kzLbyb6to2f+aAg3mXOlQHNwHvxYiBeaAjiMj8loNz2JhM9+TMFo9j353YRCg1wIDAQAB';
export const CHROMIUM_EXTENSION_ID = 'gmkmimflkieojdcffgpfdpdfgelhadmp';
export const CHROMIUM_ORIGIN = `chrome-extension://${CHROMIUM_EXTENSION_ID}/`;
export const FIREFOX_ADDON_ID = 'tunlock@tunlock.dev';
/** The native messaging host name the extension connects to (lower-case, dots: as both browsers require). */
export const NATIVE_HOST_NAME = 'dev.tunlock.host';
