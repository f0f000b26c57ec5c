/**
 * Who is reading, from the call the pipeline verified (never from tool
 * arguments): a tenant's reader, or the operator (every tenant).
 */
import { currentCall } from 'mcptrail/context';
import { ALL_TENANTS_SCOPE } from './authenticator.js';

/** `tenant` undefined: every tenant. */
export interface Reader {
  readonly tenant?: string;
}

/** A refusal the agent can act on: answered as a tool error with this code and message. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: 'other_tenant' | 'not_found' | 'tenant_required',
    message: string,
  ) {
    super(message);
  }
}

export function currentReader(): Reader {
  const call = currentCall();
  // Outside the pipeline there is no verified caller: fail closed.
  if (!call) throw new Error('audit tools run inside the call pipeline only');
  return call.scopes.includes(ALL_TENANTS_SCOPE) ? {} : { tenant: call.tenantId };
}

/** The tenant a request reads: the reader's own, or for the operator the one it names (undefined: all). */
export function tenantToRead(reader: Reader, asked: string | undefined): string | undefined {
  if (reader.tenant === undefined) return asked;
  if (asked !== undefined && asked !== reader.tenant) {
    throw new Refusal('other_tenant', `This read token reads tenant "${reader.tenant}" only and cannot see other tenants. Leave tenant out (it means "${reader.tenant}").`);
  }
  return reader.tenant;
}
