import { describe, expect, test } from 'bun:test';
import { runDemo } from '../../src/demo/index.ts';

describe('filament demo', () => {
  for (const inProcessBroker of [false, true]) {
    test(`tells the whole story on ${inProcessBroker ? 'the in-process broker' : 'mosquitto'}`, async () => {
      const lines: string[] = [];
      await runDemo((line) => lines.push(line), { inProcessBroker });
      const story = lines.filter((l) => !l.startsWith('  log ')).join('\n');
      expect(story).toContain(inProcessBroker ? 'broker: aedes' : 'broker: mosquitto');
      expect(story).toContain('ACK  v1 from demo-host-a: applied, active v1, persisted true');
      expect(story).toContain(
        'NACK v3 from demo-host-a: DANGLING_REFERENCE at /objectives/0/defaultModel',
      );
      expect(story).toContain('ACK  v2 from demo-host-a: applied, active v2');
      expect(story).toContain('OK (cell, rule v2, payload checked)');
      for (const code of [
        'MODEL_VERSION_MISMATCH',
        'MODEL_NOT_LOADED',
        'PAYLOAD_INVALID',
        'HOST_BEHIND',
      ])
        expect(story).toContain(code);
      expect(story).toMatch(/demo-host-a\s+gpu-east\s+READY/);
      expect(story).toMatch(/demo-host-b\s+gpu-east\s+SATURATED/);
      expect(story).toMatch(/demo-host-c\s+gpu-east\s+COLD/);
      expect(story).toContain("the resolver's picks for 20 requests to gpu-east: demo-host-a ×20");
      // A host loses an adapter: its ACK says what it can no longer serve, resolvers route around.
      expect(story).toContain('picks for acme.chat.support (the LoRA adapter): demo-host-a ×20');
      expect(story).toContain(
        'acme.chat.support: ADAPTER_NOT_LOADED: adapter "acme-support" (model "llama-8b-support") is not loaded on this host',
      );
      expect(story).toContain(
        'picks for acme.chat.support now: demo-host-b ×20 — the busy host still has the adapter; acme.chat.llama-8b: demo-host-a ×20',
      );
      expect(story).toContain('NACK v1 from demo-host-a: VERSION_REGRESSION');
      expect(story).toContain('restored from disk: acme v2 (last-known-good), high-water v2');
      expect(story).toContain('done: everything stopped cleanly');
    });
  }
});
