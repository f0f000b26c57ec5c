/**
 * `mcptrail/fastify`: the fastify plugin and the stand-alone app built on it.
 * A subpath of its own so that importing `mcptrail` never loads fastify (an
 * optional peer) or needs its types.
 */
export { mcptrailFastify, createMcpHttpApp } from './http-app.js';
export type { McpFastifyOptions, McpHttpAppOptions, McpFastifyDecoration } from './http-app.js';
