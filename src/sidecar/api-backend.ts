import type { ConfigSnapshot, SidecarBackend } from '../api/index.ts';
import type { SaturationMonitor } from '../saturation/index.ts';
import type { ChangeSignal } from './change-signal.ts';
import type { Declare } from './inventory-parts.ts';
import type { MeteredValidator } from './metered-validator.ts';

/** The parts the gRPC face is built over (the same ones the in-process face uses). */
export interface ApiBackendParts {
  readonly validator: MeteredValidator;
  readonly snapshot: () => ConfigSnapshot;
  readonly changes: ChangeSignal;
  readonly monitor: SaturationMonitor;
  readonly declare: Declare;
}

/** The filament.v1.Sidecar service's view of the sidecar: validate, config, load, saturation. */
export function apiBackend(parts: ApiBackendParts): SidecarBackend {
  const { validator, changes, monitor } = parts;
  return {
    validate: (config, payload) => validator.validate(config, payload),
    snapshot: parts.snapshot,
    onChange: (listener) => changes.subscribe(listener),
    pushLoad: (load) => monitor.pushLoad(load),
    declareModels: parts.declare,
    saturation: () => monitor.current(),
    onSaturation: (listener) => monitor.onReport(listener),
  };
}
