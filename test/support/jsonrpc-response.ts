/**
 * The JSON-RPC answer of a Streamable HTTP POST, as any client reads it: a
 * JSON body, or an SSE stream whose `message` events carry it (the v2 SDK's
 * stateless legacy serving answers with a stream; 2026-07-28 answers JSON
 * unless the handler streams). With several messages, the last is the answer.
 */
export async function jsonRpcBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text);
  const messages = text
    .split(/\r?\n\r?\n/)
    .map((event) => event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
    .filter((data) => data !== '');
  if (messages.length === 0) throw new Error('the event stream carried no message');
  return JSON.parse(messages[messages.length - 1]!);
}
