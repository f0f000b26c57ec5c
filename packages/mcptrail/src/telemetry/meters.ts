/**
 * Instruments taken lazily. A meter taken at import time stays a no-op
 * forever when the MeterProvider is registered later (the metrics API has no
 * proxy provider, unlike traces), so instruments are built on first use and
 * rebuilt whenever the global provider changes. A joined host's provider is
 * the global one; mcptrail's own provider (exporting to the collector) is
 * added with `addMeterProvider` and then records alongside it.
 */
import { metrics, type Meter, type MeterProvider } from '@opentelemetry/api';

const SCOPE = 'mcptrail';
const extraProviders: MeterProvider[] = [];
let generation = 0;

/** Records mcptrail's instruments into `provider` too (besides the global provider). */
export function addMeterProvider(provider: MeterProvider): () => void {
  if (!extraProviders.includes(provider)) extraProviders.push(provider);
  generation++;
  return () => {
    const i = extraProviders.indexOf(provider);
    if (i !== -1) extraProviders.splice(i, 1);
    generation++;
  };
}

/** `build` runs once per provider (and again after a provider change); the getter is cheap per call. */
export function lazyInstruments<T>(build: (meter: Meter) => T): () => readonly T[] {
  let seenGlobal: MeterProvider | undefined;
  let seenGeneration = -1;
  let built: T[] = [];
  return () => {
    const global = metrics.getMeterProvider();
    if (global !== seenGlobal || seenGeneration !== generation) {
      seenGlobal = global;
      seenGeneration = generation;
      const providers = [global, ...extraProviders.filter((p) => p !== global)];
      built = providers.map((p) => build(p.getMeter(SCOPE)));
    }
    return built;
  };
}
