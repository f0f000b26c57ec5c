export { Deadline, DEFAULT_BUDGET_MS, DEFAULT_RESERVE_MS } from './deadline.js';
export { createUpstreamClient } from './upstream-client.js';
export type {
  UpstreamClient,
  UpstreamClientOptions,
  UpstreamRequest,
  UpstreamResponse,
  QueryValue,
} from './upstream-client.js';
export { UpstreamError, UpstreamNetworkError, UpstreamTimeoutError } from './errors.js';
export { sanitizeUrl } from './url.js';
