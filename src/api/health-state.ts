import type { RuleStore } from '../rules/index.ts';

/** A serving status as grpc.health.v1 names it. */
export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** The health service name for the sidecar as a whole (besides the empty name). */
export const SIDECAR_SERVICE = 'filament.v1.Sidecar';

/** The health service name of one tenant's rules: `filament.tenant.{tenant}`. */
export function tenantService(tenant: string): string {
  return `filament.tenant.${tenant}`;
}

/**
 * What the health service reports. A tenant is SERVING once it has an applied rule set; the
 * sidecar (service `""` or `filament.v1.Sidecar`) is SERVING when every configured tenant is and
 * it is not stopping. Listeners hear about every change (rules applied, tenants reconfigured,
 * stop), and decide themselves whether a status they watch moved.
 */
export class HealthState {
  private tenants: readonly string[];
  private stopping = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly store: RuleStore,
    tenants: readonly string[],
  ) {
    this.tenants = [...tenants];
    store.onChange(() => this.notify());
  }

  /** The status of `service`, or `undefined` when no such service is known. */
  status(service: string): ServingStatus | undefined {
    if (service === '' || service === SIDECAR_SERVICE) {
      const all = !this.stopping && this.tenants.every((t) => this.store.active(t) !== undefined);
      return all ? 'SERVING' : 'NOT_SERVING';
    }
    const tenant = this.tenants.find((t) => tenantService(t) === service);
    if (tenant === undefined) return undefined;
    return !this.stopping && this.store.active(tenant) !== undefined ? 'SERVING' : 'NOT_SERVING';
  }

  /** Every service name the health service knows. */
  services(): string[] {
    return ['', SIDECAR_SERVICE, ...this.tenants.map(tenantService)];
  }

  /** Marks the process as stopping: everything turns NOT_SERVING. */
  markStopping(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.notify();
  }

  /** Whether {@linkcode HealthState.markStopping} was called. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Replaces the configured tenants (a config reload). */
  setTenants(tenants: readonly string[]): void {
    this.tenants = [...tenants];
    this.notify();
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
