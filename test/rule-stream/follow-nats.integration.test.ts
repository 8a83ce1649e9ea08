import { startNats } from '../helpers/nats.ts';
import { followContract } from './follow-contract.ts';

followContract('nats-server MQTT listener, MQTT 3.1.1', () => startNats(), '3.1.1');
