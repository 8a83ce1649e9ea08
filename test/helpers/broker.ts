import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes, ruleSet } from './rule-sets.ts';

/**
 * A private mosquitto on a free port with {@linkcode ruleSet} `tenant` v`version` already
 * retained on its rules topic (under `filament/v1`), so a sidecar started next applies it.
 */
export async function brokerWithRules(tenant = 'acme', version = 1): Promise<MosquittoBroker> {
  const broker = await startMosquitto();
  await publishOnce({
    url: broker.url,
    topic: rulesTopic('filament/v1', tenant),
    payload: jsonBytes(ruleSet(tenant, version)),
  });
  return broker;
}
