import { lazy } from '../lazy.js';

/** pino, loaded when the first logger is made (see lazy.ts). */
export const pino = lazy<typeof import('pino')>('pino');
