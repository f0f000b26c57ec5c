/**
 * Upstream URLs: the one that is requested, and the one that may appear in
 * telemetry (`url.full`, `url.template`). Paths carry tool arguments (ids,
 * emails, sometimes secrets) as much as queries do, so no argument value is
 * ever recorded:
 *
 * - a path template (`/v1/deals/{id}` + `params: { id }`) is recorded as the
 *   template, its values filled in only on the wire;
 * - a plain path has every segment that is not a fixed-looking literal (a
 *   lower-case word, a `v2`) replaced by REDACTED: ids, numbers, emails,
 *   secret-looking values, anything mixed-case or encoded;
 * - every query value is REDACTED (keys are kept), userinfo and fragment are
 *   removed. The OpenTelemetry HTTP conventions only require redacting known
 *   credential parameters, but in an audit pipeline values are as likely to
 *   be customer data as secrets.
 */
import { looksLikeSecret } from '../record/secrets.js';

export type QueryValue = string | number | boolean | undefined | null;
export type PathParams = Record<string, string | number>;

export const REDACTED = 'REDACTED';

/** `{name}` placeholders of a path template. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]{0,63})\}/g;
/** A segment kept as is when no template says what it is: a lower-case word or an API version. */
const LITERAL_SEGMENT = /^(?:[a-z][a-z_.-]{0,31}|v\d{1,3})$/;

export interface UpstreamUrl {
  /** What is requested. */
  url: URL;
  /** What telemetry may show: the template, or the path with its non-literal segments redacted; query values redacted. */
  recorded: string;
  /** The path template (base path included) when the handler gave one. */
  template?: string;
}

/**
 * Resolves `path` (a template when it has `{name}` placeholders) against the
 * base URL's path, so baseUrl http://h/api + /v1/x → http://h/api/v1/x.
 */
export function buildUpstreamUrl(
  base: URL,
  path: string,
  params: PathParams | undefined,
  query: Record<string, QueryValue | readonly QueryValue[]> | undefined,
): UpstreamUrl {
  const relative = path.startsWith('/') ? path : `/${path}`;
  const basePath = base.pathname.replace(/\/+$/, '');
  const isTemplate = relative.includes('{');
  const filled = isTemplate ? fillTemplate(relative, params ?? {}) : relative;
  const url = new URL(`${base.origin}${basePath}${filled}`);
  if (query) {
    for (const [key, value] of Object.entries(query)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) if (v !== undefined && v !== null) url.searchParams.append(key, String(v));
    }
  }
  const template = isTemplate ? `${basePath}${relative.split('?')[0]}` : undefined;
  const recordedPath = template ?? redactPath(url.pathname);
  return { url, recorded: `${base.origin}${recordedPath}${redactedQuery(url)}`, template };
}

function fillTemplate(template: string, params: PathParams): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.prototype.hasOwnProperty.call(params, name) ? params[name] : undefined;
    // A programming error, named without the value.
    if (value === undefined || value === null || value === '') throw new TypeError(`upstream path parameter "${name}" is missing`);
    return encodeURIComponent(String(value));
  });
}

/** Every segment that is not a fixed-looking literal becomes REDACTED. */
export function redactPath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => (segment === '' || isLiteralSegment(segment) ? segment : REDACTED))
    .join('/');
}

function isLiteralSegment(segment: string): boolean {
  return LITERAL_SEGMENT.test(segment) && !looksLikeSecret(segment);
}

function redactedQuery(url: URL): string {
  if (!url.search) return '';
  const out = new URLSearchParams();
  for (const key of url.searchParams.keys()) out.append(key, REDACTED);
  const s = out.toString();
  return s ? `?${s}` : '';
}

/**
 * Any URL as it may appear in telemetry: userinfo and fragment removed, path
 * segments and query values redacted as above.
 */
export function sanitizeUrl(url: URL): string {
  const clean = new URL(url.href);
  return `${clean.origin}${redactPath(clean.pathname)}${redactedQuery(clean)}`;
}
