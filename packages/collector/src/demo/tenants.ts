/**
 * The demo's cast: three tenants, their agents and what each agent may do.
 * Tokens are minted here because the demo plays its own identity provider;
 * a real deployment verifies tokens from one (issuer + JWKS).
 */
import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';

export interface DemoAgent {
  agentId: string;
  tenantId: string;
  subject: string;
  scopes: string[];
  /** Relative weights of the tools this agent calls. */
  mix: Partial<Record<'crm.search_contacts' | 'crm.update_deal' | 'crm.issue_refund', number>>;
}

export const DEMO_TENANTS = ['acme', 'globex', 'initech'] as const;

export const DEMO_AGENTS: DemoAgent[] = [
  { agentId: 'acme-support-bot', tenantId: 'acme', subject: 'user:alice@acme.example', scopes: ['contacts:read', 'deals:write'], mix: { 'crm.search_contacts': 6, 'crm.update_deal': 3 } },
  { agentId: 'acme-billing-bot', tenantId: 'acme', subject: 'user:bob@acme.example', scopes: ['contacts:read', 'deals:write', 'refunds:write'], mix: { 'crm.search_contacts': 3, 'crm.update_deal': 2, 'crm.issue_refund': 1 } },
  // This agent tries refunds without the scope: the trail shows it denied.
  { agentId: 'globex-sales-agent', tenantId: 'globex', subject: 'user:carol@globex.example', scopes: ['contacts:read', 'deals:write'], mix: { 'crm.search_contacts': 5, 'crm.update_deal': 4, 'crm.issue_refund': 1 } },
  { agentId: 'initech-ops-agent', tenantId: 'initech', subject: 'user:dave@initech.example', scopes: ['contacts:read', 'deals:write', 'refunds:write'], mix: { 'crm.search_contacts': 4, 'crm.update_deal': 2, 'crm.issue_refund': 1 } },
];

export const DEMO_ISSUER = 'https://idp.demo.mcptrail.invalid';

export function newDemoSecret(): Uint8Array {
  return randomBytes(32);
}

/** The noisy tenant's batch importer: runs only during the "noisy tenant" incident. */
export const NOISY_AGENT: DemoAgent = {
  agentId: 'acme-batch-importer',
  tenantId: 'acme',
  subject: 'service:importer@acme.example',
  scopes: ['contacts:read', 'deals:write'],
  mix: { 'crm.search_contacts': 3, 'crm.update_deal': 1 },
};

export async function mintAgentToken(agent: DemoAgent, secret: Uint8Array, audience: string, ttlSeconds = 24 * 3600): Promise<string> {
  return new SignJWT({ tenant_id: agent.tenantId, agent_id: agent.agentId, scope: agent.scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(DEMO_ISSUER)
    .setAudience(audience)
    .setSubject(agent.subject)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(secret);
}
