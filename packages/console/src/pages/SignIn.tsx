import { Field } from '../components/Field.js';
import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api.js';

/** Asked for when the collector has read tokens configured: the token goes into an HttpOnly cookie, never the URL. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const token = String(new FormData(e.currentTarget as HTMLFormElement).get('token') ?? '');
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(token));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin" data-page="signin">
      <h1>mcptrail console</h1>
      <p>This collector requires a read token. A tenant token shows that tenant only; an operator token shows every tenant.</p>
      <form onSubmit={submit} aria-label="Sign in">
        <Field label="Read token">{(id) => <input id={id} name="token" type="password" autoComplete="off" required minLength={1} autoFocus />}</Field>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p class="muted">The token is kept in an HttpOnly cookie for this collector's API for 12 hours, or until you sign out.</p>
    </main>
  );
}
