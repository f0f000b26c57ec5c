import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from './api.js';

export const SessionContext = createContext<Session>({ auth: 'open', signedIn: true, scope: { operator: true } });

export const useSession = () => useContext(SessionContext);

/** The tenant a tenant-scoped token reads; undefined for an operator. */
export function useScopedTenant(): string | undefined {
  const { scope } = useSession();
  return scope && 'tenant' in scope ? scope.tenant : undefined;
}
