import type { SidecarMetrics } from '../metrics/index.ts';
import type { ObjectiveConfig, Payload, RequestValidator, Verdict } from '../validation/index.ts';

/**
 * The in-process validation library (for TypeScript model servers) and the engine behind the
 * gRPC Validate calls: the pure {@linkcode RequestValidator}, timed and counted in `/metrics`.
 */
export class MeteredValidator {
  constructor(
    private readonly validator: RequestValidator,
    private readonly metrics: SidecarMetrics,
  ) {}

  /** Judges a request: OK, or a reason code with a sentence (and a path for payloads). */
  validate(config: ObjectiveConfig, payload?: Payload): Verdict {
    const started = performance.now();
    const verdict = this.validator.validate(config, payload);
    this.metrics.validationSeconds.observe((performance.now() - started) / 1000);
    this.metrics.validations.inc({ result: verdict.ok ? 'ok' : verdict.code });
    return verdict;
  }
}
