import type { Logger } from '../record/index.js';

/** Per process: instrument() runs per request in stateless mode, so this can't live on the server. */
const warned = new Set<string>();

/** One warn line per deprecated tool@version per process. */
export function warnDeprecatedOnce(logger: Logger | undefined, service: string, tool: string, version: string): void {
  const key = `${service}\u0000${tool}\u0000${version}`;
  if (!logger || warned.has(key)) return;
  warned.add(key);
  logger.warn({ service, tool, tool_version: version }, 'deprecated_tool_called');
}
