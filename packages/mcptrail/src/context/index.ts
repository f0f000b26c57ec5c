export { currentCall, runWithCall, freshCounters } from './call-context.js';
export type { AuthMethod, CallContext, CallCounters } from './call-context.js';
