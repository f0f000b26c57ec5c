/** The verified caller of a request, derived from its bearer credential only. */
export interface Principal {
  tenantId: string;
  agentId: string;
  subject: string;
  scopes: string[];
  method: 'jwt' | 'api_key';
  /** Seconds since epoch, when the credential carries an expiry. */
  expiresAt?: number;
}
