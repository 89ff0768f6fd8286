// A token from the app's development provider, fetched by a non-browser client as tools do: sign in
// with the form's fields, then read /token with the provider's session cookie. Requests without
// Origin or Sec-Fetch-Site pass the provider's same-origin check (only browsers send those).

/** The `name=value` part of each Set-Cookie line. */
export function cookiePairs(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => line.split(';')[0] as string)
}

export async function devIssuerToken(appUrl: string, userName: string): Promise<string> {
  const signIn = await fetch(`${appUrl}/dev-issuer/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: userName }).toString(),
    redirect: 'manual',
  })
  if (signIn.status !== 303) throw new Error(`dev-issuer sign-in answered ${signIn.status}`)
  const token = await fetch(`${appUrl}/dev-issuer/token`, {
    headers: { accept: 'application/json', cookie: cookiePairs(signIn).join('; ') },
  })
  if (token.status !== 200) throw new Error(`dev-issuer /token answered ${token.status}`)
  return ((await token.json()) as { jwt: string }).jwt
}
