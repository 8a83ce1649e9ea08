import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

/** An in-process MQTT 3.1.1 broker (aedes) on a free loopback port, for the zero-install demo. */
export interface InProcessBroker {
  readonly kind: 'aedes';
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts aedes on 127.0.0.1 with an OS-assigned port. It speaks MQTT 3.1.1 only. */
export async function startInProcessBroker(): Promise<InProcessBroker> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle as unknown as (socket: unknown) => void);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopped = false;
  return {
    kind: 'aedes',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
