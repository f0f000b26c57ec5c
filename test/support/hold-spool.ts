/** A second process holding a spool directory (argv[2]) until killed. */
import { openSpool } from '../../packages/mcptrail/src/record/index.js';

openSpool({ dir: process.argv[2]! });
process.send?.('holding');
setInterval(() => {}, 1 << 30);
