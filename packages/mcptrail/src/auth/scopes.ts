/** The required scope when the granted ones lack it, else undefined. */
export function missingScope(required: string | undefined, granted: readonly string[]): string | undefined {
  if (!required || granted.includes(required)) return undefined;
  return required;
}
