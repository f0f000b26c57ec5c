/**
 * JSON.stringify writes a lone UTF-16 surrogate (from a `"\ud800"` escape in
 * the input) as a `\udXXX` escape, and ClickHouse refuses such a string,
 * failing the whole insert block. Valid pairs are written as raw characters,
 * so in JSON.stringify output every unescaped `\ud8xx`-`\udfxx` is a lone
 * surrogate: replace it with U+FFFD, as a UTF-8 decoder would.
 */
const LONE_SURROGATE_ESCAPE = /(?<=(?:^|[^\\])(?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}/g;

export function wellFormedJson(json: string): string {
  return json.includes('\\ud') || json.includes('\\uD') ? json.replace(LONE_SURROGATE_ESCAPE, '\\ufffd') : json;
}
