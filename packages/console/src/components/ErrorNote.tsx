/** An API error in words: a refusal (403) says so plainly, other errors give the collector's message. */
export function ErrorNote({ error }: { error: Error & { status?: number } }) {
  if (error.status === 403) {
    return (
      <p class="refusal" role="alert">
        <strong>Not allowed:</strong> {error.message}
      </p>
    );
  }
  return (
    <p class="error" role="alert">
      {error.message}
    </p>
  );
}
