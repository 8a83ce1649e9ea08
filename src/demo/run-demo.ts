import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import acmeV1 from '../../examples/rules/acme.v1.json' with { type: 'json' };
import acmeV2 from '../../examples/rules/acme.v2.ts';
import { findMosquitto, startInProcessBroker, startMosquitto } from '../local-broker/index.ts';
import { createLogger } from '../log/index.ts';
import { publishOnce, rulesTopic } from '../mqtt/index.ts';
import type { AckDocument } from '../rule-stream/index.ts';
import { Sidecar } from '../sidecar/index.ts';
import { renderFleet } from '../terminal-tables/index.ts';
import type { ObjectiveConfig, Payload, Verdict } from '../validation/index.ts';
import { AckWatcher } from './ack-watcher.ts';
import { DemoFleet, demoHostConfig } from './demo-fleet.ts';
import {
  type ModelServerStandIn,
  type StandInModel,
  startModelServerStandIn,
  vllmMetrics,
} from './model-server-stand-in.ts';

const PREFIX = 'filament/v1';

/**
 * The zero-install demo: a private broker (mosquitto when installed, else in-process aedes on
 * MQTT 3.1.1) and three simulated GPU hosts (ready, busy, cold) with model-server stand-ins and
 * sidecars following tenant `acme`: apply, NACK, update, request verdicts, the resolver steering
 * around the busy and cold hosts, rollback refusal, and a restart with the broker down. Writes
 * its story through `say`.
 * `inProcessBroker` forces aedes even when mosquitto is installed.
 */
export async function runDemo(
  say: (line: string) => void,
  options: { inProcessBroker?: boolean } = {},
): Promise<void> {
  const mosquitto = options.inProcessBroker ? null : findMosquitto();
  const broker = mosquitto
    ? await startMosquitto({ binary: mosquitto })
    : await startInProcessBroker();
  const protocol = broker.kind === 'mosquitto' ? '5' : '3.1.1';
  const stateDir = await mkdtemp(join(tmpdir(), 'filament-demo-'));
  say(`• broker: ${broker.kind} on ${broker.url} (MQTT ${protocol}); state dir ${stateDir}`);
  const hostA = await startModelServerStandIn();
  hostA.ready = true;
  hostA.served = [...DEMO_SERVED];
  hostA.metrics = vllmMetrics(0, 3, 0.2);
  const config = demoHostConfig('demo-host-a', { url: broker.url, protocol }, stateDir, hostA);
  const logger = createLogger({ level: 'warn', write: (line) => say(`  log ${line}`) });
  let sidecar = new Sidecar(config, { logger });
  const watcher = await AckWatcher.connect(broker.url, PREFIX, protocol === '5' ? 5 : 4);
  const publish = async (label: string, document: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(document));
    say(`→ publish ${label} (${bytes.byteLength} bytes, retained, QoS 1)`);
    await publishOnce({
      url: broker.url,
      topic: rulesTopic(PREFIX, 'acme'),
      payload: bytes,
      contentType: 'application/json',
      protocolVersion: protocol === '5' ? 5 : 4,
    });
  };
  const expectAck = async (version: number) => {
    const ack = await watcher.next(
      (a) => a.replica === 'demo-host-a' && a.receivedVersion === version,
    );
    say(`← ${describeAck(ack)}`);
  };
  try {
    await publish('acme v1 before the sidecar starts', acmeV1);
    await sidecar.start();
    say(`• sidecar demo-host-a started; it finds v1 as the retained message`);
    await expectAck(1);

    await publish('acme v3 naming a model that does not exist', {
      ...acmeV1,
      version: 3,
      objectives: [{ id: 'chat', defaultModel: 'mistral-large' }],
    });
    await expectAck(3);
    await publish('acme v2 (authored in TypeScript: 5 % canary)', acmeV2);
    await expectAck(2);
    say(
      `• validating requests as the model server would (in-process; the same over gRPC on ${config.api.socket}):`,
    );
    for (const [label, request, payload] of DEMO_REQUESTS)
      say(`  ${label.padEnd(41)} ${describeVerdict(sidecar.validate(request, payload))}`);
    await showSteering(say, { url: broker.url, protocol }, stateDir, { hostA, watcher });
    await publish('acme v1 again (a rollback)', acmeV1);
    await expectAck(1);
    say(
      `• active rules: v${sidecar.store.active('acme')?.version}, kept for skew: ${sidecar.store
        .get('acme')
        ?.history.map((r) => `v${r.version}`)
        .join(', ')}`,
    );

    await sidecar.stop();
    await watcher.close();
    await broker.stop();
    say('• sidecar and broker stopped; restarting the sidecar with no broker at all');
    sidecar = new Sidecar(config, { logger: createLogger({ level: 'error', write: () => {} }) });
    await sidecar.start();
    say(
      `• restored from disk: acme v${sidecar.store.active('acme')?.version ?? 'none'} (last-known-good), high-water v${sidecar.store.highWater('acme')}`,
    );
  } finally {
    await sidecar.stop();
    await watcher.close().catch(() => {});
    await broker.stop();
    await hostA.close();
    await rm(stateDir, { recursive: true, force: true });
  }
  say('• done: everything stopped cleanly');
}

const chat: ObjectiveConfig = {
  tenant: 'acme',
  objective: 'chat-default',
  model: 'llama-3.1-8b-instruct',
  modelVersion: '2026-10-01',
  ruleVersion: 2,
  schemaId: 'chat-completions/v1',
  routingKey: 'acme.chat.llama-8b',
  cell: 'A',
};
const hello = { value: { messages: [{ role: 'user', content: 'hello' }] } };

/** Requests the demo validates against acme v2: one good, then one per typical failure. */
const DEMO_REQUESTS: ReadonlyArray<readonly [string, ObjectiveConfig, Payload | undefined]> = [
  ['cell A, llama 8B, valid payload', chat, hello],
  ['a stale model version', { ...chat, modelVersion: '2026-08-01' }, hello],
  [
    'cell B (qwen, not loaded on this host)',
    {
      ...chat,
      cell: 'B',
      model: 'qwen-2.5-7b-instruct',
      modelVersion: '2026-09-15',
      routingKey: 'acme.chat.qwen-7b',
    },
    hello,
  ],
  ['a payload without messages', chat, { value: { prompt: 'hello' } }],
  ['resolved from v3, which this host lacks', { ...chat, ruleVersion: 3 }, undefined],
];

/** Two more hosts (one busy, one cold) join; the resolver's picks show the steering. */
async function showSteering(
  say: (line: string) => void,
  broker: { url: string; protocol: '5' | '3.1.1' },
  stateDir: string,
  a: { readonly hostA: ModelServerStandIn; readonly watcher: AckWatcher },
): Promise<void> {
  say(
    '• two more hosts join: demo-host-b is busy (15 queued), demo-host-c is cold (model not loaded)',
  );
  const fleet = await DemoFleet.start(broker, stateDir);
  try {
    await fleet.settle({
      'demo-host-a': 'READY',
      'demo-host-b': 'SATURATED',
      'demo-host-c': 'COLD',
    });
    say('• what a resolver sees (filament top shows the same, live):');
    for (const line of renderFleet(fleet.resolver.replicas(), Date.now()).split('\n'))
      say(`  ${line}`);
    const picks = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const replica = fleet.resolver.pick('gpu-east') ?? 'none';
      picks.set(replica, (picks.get(replica) ?? 0) + 1);
    }
    const summary = [...picks].map(([replica, n]) => `${replica} ×${n}`).join(', ');
    say(
      `• the resolver's picks for 20 requests to gpu-east: ${summary} — the busy and the cold host get none`,
    );
    await showAdapterLoss(say, fleet, a);
  } finally {
    await fleet.stop();
  }
}

/** Host A's model server unloads the support adapter: its ACK says so, resolvers route around. */
async function showAdapterLoss(
  say: (line: string) => void,
  fleet: DemoFleet,
  a: { readonly hostA: ModelServerStandIn; readonly watcher: AckWatcher },
): Promise<void> {
  const picks = (routingKey: string) => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const pick = fleet.resolver.pickServing('gpu-east', { tenant: 'acme', routingKey });
      const name = pick.replica ?? 'none';
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    return [...seen].map(([replica, n]) => `${replica} ×${n}`).join(', ');
  };
  say(`• picks for acme.chat.support (the LoRA adapter): ${picks('acme.chat.support')}`);
  say(
    "• demo-host-a's model server unloads the acme-support adapter (vLLM /v1/models stops listing it)",
  );
  a.hostA.served = DEMO_SERVED.filter((m) => m.parent === undefined);
  const ack = await a.watcher.next(
    (x) =>
      x.replica === 'demo-host-a' &&
      x.serving?.unservable.some((u) => u.routingKey === 'acme.chat.support') === true,
  );
  const lost = ack.serving?.unservable.find((u) => u.routingKey === 'acme.chat.support');
  say(
    `← ACK  v${ack.activeVersion} from demo-host-a again, still an ACK (the rules are fine, the host lacks a model): ${ack.serving?.unservableObjectives} of ${ack.serving?.objectives} objectives cannot be fully served here; acme.chat.support: ${lost?.code}: ${lost?.reason}`,
  );
  await fleet.until(() => {
    const entry = fleet.resolver.replicas().find((r) => r.report.replica === 'demo-host-a');
    const want = { tenant: 'acme', routingKey: 'acme.chat.support' };
    return entry !== undefined && fleet.resolver.servable.answer(entry, want) === 'no';
  });
  say(
    `• picks for acme.chat.support now: ${picks('acme.chat.support')} — the busy host still has the adapter; acme.chat.llama-8b: ${picks('acme.chat.llama-8b')}`,
  );
}

/** What host A's model server has loaded at first: llama 8B and acme's support adapter on it. */
const DEMO_SERVED: readonly StandInModel[] = [
  { id: 'llama-3.1-8b-instruct', root: '/models/llama-3.1-8b-instruct' },
  { id: 'acme-support', parent: 'llama-3.1-8b-instruct', root: '/adapters/acme/support-v3' },
];

function describeVerdict(v: Verdict): string {
  if (v.ok) return `OK (${v.role}, rule v${v.ruleVersion}, payload ${v.payload})`;
  return `${v.code}: ${v.message}`;
}

function describeAck(ack: AckDocument): string {
  if (ack.status === 'rejected') {
    return `NACK v${ack.receivedVersion} from ${ack.replica}: ${ack.code} at ${ack.path || '(root)'}: ${ack.reason} — still on v${ack.activeVersion}`;
  }
  return `ACK  v${ack.receivedVersion} from ${ack.replica}: ${ack.status}, active v${ack.activeVersion}, persisted ${ack.persisted}`;
}
