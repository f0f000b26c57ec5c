export { currentCall, runWithCall } from './call-context.js';
export type { AuthMethod, CallContext } from './call-context.js';
