import { startMosquitto } from '../../src/local-broker/index.ts';
import { followContract } from './follow-contract.ts';

followContract('mosquitto, MQTT 5', () => startMosquitto(), '5');
followContract('mosquitto, MQTT 3.1.1', () => startMosquitto(), '3.1.1');
