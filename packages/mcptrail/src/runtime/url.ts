/**
 * The URL as it may appear in telemetry (`url.full`): userinfo and fragment
 * removed and every query value replaced by REDACTED. The OpenTelemetry HTTP
 * conventions only require redacting known credential parameters, but in an
 * audit pipeline query values are as likely to be customer data (a search
 * term, an email) as secrets, so keys are kept and values never are.
 */
export function sanitizeUrl(url: URL): string {
  const clean = new URL(url.href);
  clean.username = '';
  clean.password = '';
  clean.hash = '';
  if (clean.search) {
    const keys = [...clean.searchParams.keys()];
    clean.search = '';
    for (const key of keys) clean.searchParams.append(key, 'REDACTED');
  }
  return clean.href;
}
