export { sha256Hex, sha256Digest } from './sha256.js';
