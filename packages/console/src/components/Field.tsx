import type { VNode } from 'preact';
import { useId } from 'preact/hooks';

/** A form control with its own label element (`for`/`id`), so its accessible name is exactly the label. */
export function Field({ label, children }: { label: string; children: (id: string) => VNode }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id)}
    </div>
  );
}
