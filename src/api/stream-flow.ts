import { constants as http2 } from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/** Told when a stream is cancelled because its client stopped reading. */
export type StreamCancelled = (method: string, reason: 'client_not_reading') => void;

/** Options for {@linkcode StreamFlow}. */
export interface StreamFlowOptions {
  /** The gRPC method, for logs and metrics. */
  readonly method: string;
  /** How long a client may leave responses unread before the call is cancelled, ms. */
  readonly stallMs: number;
  readonly onCancelled: StreamCancelled;
}

type Writable =
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

/**
 * Backpressure for one server stream. A write the transport cannot take yet (HTTP/2 flow
 * control: the client is not reading) pauses reading requests from that client — so its
 * requests wait in its own send window, not in our memory — until the responses drain. A client
 * that leaves them unread for `stallMs` has its stream reset with ENHANCE_YOUR_CALM, which gRPC
 * clients see as RESOURCE_EXHAUSTED (a status in trailers could never reach a client that does
 * not read). Well-behaved clients never notice: their writes always succeed.
 */
export class StreamFlow {
  private stall: ReturnType<typeof setTimeout> | null = null;
  private ended = false;

  constructor(
    private readonly call: Writable,
    private readonly options: StreamFlowOptions,
  ) {
    call.on('drain', () => this.drained());
    const end = () => this.finish();
    call.once('finish', end);
    call.once('close', end);
    call.once('cancelled', end);
  }

  /** Whether responses are waiting for the client (a new one should wait, or be coalesced). */
  get blocked(): boolean {
    return this.stall !== null;
  }

  /** Writes `message`; when the transport is full, stops reading and starts the stall clock. */
  write(message: unknown): void {
    if (this.ended || this.call.cancelled || this.call.writableEnded) return;
    if (this.call.write(message) || this.stall !== null) return;
    (this.call as grpc.ServerDuplexStream<unknown, unknown>).pause?.();
    this.stall = setTimeout(() => this.cancel(), this.options.stallMs);
    (this.stall as { unref?: () => void }).unref?.();
  }

  /** Subscribes to the responses draining (for streams that coalesce updates while blocked). */
  onDrain(listener: () => void): void {
    this.call.on('drain', listener);
  }

  private drained(): void {
    if (this.stall === null) return;
    clearTimeout(this.stall);
    this.stall = null;
    (this.call as grpc.ServerDuplexStream<unknown, unknown>).resume?.();
  }

  private cancel(): void {
    this.stall = null;
    if (this.ended) return;
    this.ended = true;
    this.options.onCancelled(this.options.method, 'client_not_reading');
    const stream = http2StreamOf(this.call);
    if (stream && !stream.destroyed) stream.close(http2.NGHTTP2_ENHANCE_YOUR_CALM);
    else this.call.destroy();
  }

  private finish(): void {
    this.ended = true;
    if (this.stall !== null) clearTimeout(this.stall);
    this.stall = null;
  }
}

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js keeps it behind its interceptor chain
 * (`call.call.nextCall….stream`) and offers no way to reset it; only this function reaches in.
 */
function http2StreamOf(call: Writable): { destroyed: boolean; close(code: number): void } | null {
  let node = (call as unknown as { call?: unknown }).call as
    | { nextCall?: unknown; stream?: { destroyed: boolean; close(code: number): void } }
    | undefined;
  for (let depth = 0; node && depth < 8; depth++) {
    if (node.stream && typeof node.stream.close === 'function') return node.stream;
    node = node.nextCall as typeof node;
  }
  return null;
}

/**
 * Sends the latest snapshot each time it is called; while the client is not reading, only the
 * newest is kept and sent when it drains (snapshots replace each other). `make` returns the
 * message, or `undefined` for nothing to send yet.
 */
export function latestOnlySender(
  call: { readonly cancelled: boolean; readonly writableEnded: boolean },
  flow: StreamFlow,
  make: () => unknown,
): () => void {
  let waiting = false;
  const write = () => {
    const message = make();
    if (message !== undefined) flow.write(message);
  };
  flow.onDrain(() => {
    if (!waiting) return;
    waiting = false;
    write();
  });
  return () => {
    if (call.cancelled || call.writableEnded) return;
    if (flow.blocked) waiting = true;
    else write();
  };
}
