import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { MqttConnection } from '../../src/mqtt/index.ts';
import { messageBusContract } from './message-bus-contract.ts';

let broker: MosquittoBroker;
let clients = 0;
messageBusContract('MqttConnection on mosquitto (MQTT 5)', {
  setup: async () => {
    broker = await startMosquitto();
  },
  teardown: () => broker.stop(),
  connection: () =>
    new MqttConnection({
      urls: [broker.url],
      clientId: `contract-${process.pid}-${++clients}`,
      cleanSession: true,
    }),
});
