import type { MessageBus, RetainedPublishOptions, WillMessage } from '../mqtt/index.ts';
import { replicaTopic } from '../mqtt/index.ts';
import { encodeReport, type SaturationReport } from '../report/index.ts';

/** Where and how this replica's reports are published. */
export interface ReportPublisherOptions {
  readonly topicPrefix: string;
  readonly cluster: string;
  readonly replica: string;
  /** MQTT 5 message expiry of each report (ignored on 3.1.1). */
  readonly expirySeconds: number;
}

/**
 * Publishes this replica's SaturationReports: one retained topic
 * (`{prefix}/replicas/{cluster}/{replica}`), MessagePack, with message expiry — for the periodic
 * reports, the last will (OFFLINE if the sidecar vanishes) and the final OFFLINE of a clean stop.
 * Written once here so the three can never disagree.
 */
export class ReportPublisher {
  /** The report topic. */
  readonly topic: string;
  private readonly publishOptions: RetainedPublishOptions;
  private bus: MessageBus | null = null;

  constructor(options: ReportPublisherOptions) {
    this.topic = replicaTopic(options.topicPrefix, options.cluster, options.replica);
    this.publishOptions = {
      contentType: 'application/msgpack',
      messageExpirySeconds: options.expirySeconds,
    };
  }

  /** Sends reports over `bus` from now on (before that, reports are dropped). */
  attach(bus: MessageBus): void {
    this.bus = bus;
  }

  /** Publishes `report` retained, never waiting for the broker; false before {@linkcode attach}. */
  publish(report: SaturationReport): boolean {
    if (!this.bus) return false;
    void this.bus.publishRetained(this.topic, encodeReport(report), this.publishOptions);
    return true;
  }

  /** The last will carrying `report` (asked anew on every connection attempt). */
  will(report: SaturationReport): WillMessage {
    return {
      topic: this.topic,
      payload: encodeReport(report),
      retain: true,
      ...this.publishOptions,
    };
  }

  /**
   * Publishes `report` (the final OFFLINE) when connected, waiting at most `timeoutMs` for the
   * broker's confirmation, so a clean stop never hangs on a dead broker.
   */
  async publishFinal(report: SaturationReport, timeoutMs = 2000): Promise<void> {
    const bus = this.bus;
    if (bus?.status().state !== 'connected') return;
    const sent = bus.publishRetained(this.topic, encodeReport(report), this.publishOptions);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([sent, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
}
