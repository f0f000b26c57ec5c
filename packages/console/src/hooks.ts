import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';

/** The page's query string (repeated keys kept, which preact-iso's `query` object drops). */
export function useSearch(): URLSearchParams {
  const { url } = useLocation();
  return useMemo(() => new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''), [url]);
}

export interface Loaded<T> {
  data?: T;
  error?: Error & { status?: number };
  loading: boolean;
}

/**
 * Loads `key` (a URL) and again every `refreshMs` (0: never). Keeps showing
 * the last data while a refresh runs; a changed key aborts the request in flight.
 */
export function useData<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>, refreshMs = 0): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ loading: key !== null });
  const loader = useRef(load);
  loader.current = load;
  const lastKey = useRef<string | null>(null);
  useEffect(() => {
    if (key === null) {
      setState({ loading: false });
      return;
    }
    let controller = new AbortController();
    let alive = true;
    const run = () => {
      controller.abort();
      controller = new AbortController();
      const signal = controller.signal;
      setState((s) => ({ ...s, loading: true }));
      loader.current(signal).then(
        (data) => alive && !signal.aborted && setState({ data, loading: false }),
        (error: Error) => alive && !signal.aborted && setState({ error, loading: false }),
      );
    };
    // A new key starts empty; a changed refresh interval keeps what is shown.
    if (lastKey.current !== key) setState({ loading: true });
    lastKey.current = key;
    run();
    const timer = refreshMs > 0 ? setInterval(run, refreshMs) : undefined;
    return () => {
      alive = false;
      controller.abort();
      if (timer) clearInterval(timer);
    };
  }, [key, refreshMs]);
  return state;
}

/** Replaces some query parameters of the current page and navigates (one history entry). */
export function useUpdateSearch(): (changes: Record<string, string | string[] | undefined>) => void {
  const { path, route } = useLocation();
  const search = useSearch();
  return (changes) => {
    const next = new URLSearchParams(search);
    for (const [k, v] of Object.entries(changes)) {
      next.delete(k);
      for (const value of v === undefined ? [] : Array.isArray(v) ? v : [v]) if (value !== '') next.append(k, value);
    }
    const text = next.toString();
    route(text ? `${path}?${text}` : path);
  };
}
