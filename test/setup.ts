import { setDefaultTimeout } from 'bun:test';

// Integration tests start real brokers and sidecar processes; each step waits for its event
// with its own shorter deadline, so this is only the outer bound. Bun 1.4 applies a default set
// in a preload to the first test file only, so `npm test` also passes --timeout=30000; this
// covers `bun test some.test.ts` run by hand.
setDefaultTimeout(30_000);
