export { instrument } from './instrument.js';
export type { InstrumentOptions, AnyMcpServer } from './instrument.js';
export type { ToolPolicy } from './policy.js';
export { createMcpHttpApp } from './http-app.js';
export type { McpHttpAppOptions } from './http-app.js';
