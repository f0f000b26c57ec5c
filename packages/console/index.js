// Where the built console lives (`npm run build` writes it; it is not committed). The collector serves it.
import { fileURLToPath } from 'node:url';

export const CONSOLE_DIST = fileURLToPath(new URL('./dist/', import.meta.url));
