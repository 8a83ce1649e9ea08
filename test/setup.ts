import { setDefaultTimeout } from 'bun:test';

// Integration tests start real brokers and sidecar processes; each step waits for its event
// with its own shorter deadline, so this is only the outer bound.
setDefaultTimeout(30_000);
