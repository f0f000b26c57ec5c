/** The verified caller of a request, derived from its bearer credential only. */
export interface Principal {
  tenantId: string;
  agentId: string;
  subject: string;
  scopes: string[];
  /** `bearer`: verified by another host and read from the SDK's authInfo; `none`: no credential (stdio). */
  method: 'jwt' | 'api_key' | 'bearer' | 'none';
  /** Seconds since epoch, when the credential carries an expiry. */
  expiresAt?: number;
}
