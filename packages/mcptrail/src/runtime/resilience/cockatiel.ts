import { lazy } from '../../lazy.js';

/** cockatiel, loaded when the first retry policy or breaker is made (see lazy.ts). */
export const cockatiel = lazy<typeof import('cockatiel')>('cockatiel');
