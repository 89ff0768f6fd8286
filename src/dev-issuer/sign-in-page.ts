/** HTML text and attribute escaping: every value written into the page passes through it. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

export interface SignInPageInput {
  /** Where the form posts (the provider's `/sign-in`). */
  action: string
  /** The accepted `return_to`, carried through the form; undefined for the default. */
  returnTo: string | undefined
  /** The name to show in the field again after a refusal. */
  userName?: string
  /** Why the last attempt was refused. */
  error?: string
  /** Who is signed in on the provider already, if anyone. */
  signedInAs?: string
}

/**
 * The sign-in page: one text field for the user name, one submit button, and a line saying this is a
 * development provider. No script, no external resource; the label is tied to the field, and an
 * error is announced (role="alert") and linked to the field (aria-describedby).
 */
export function signInPage(input: SignInPageInput): string {
  const error =
    input.error === undefined
      ? ''
      : `\n<p id="error" class="error" role="alert">${escapeHtml(input.error)}</p>`
  const status =
    input.signedInAs === undefined
      ? ''
      : `\n<p id="status">Signed in as <strong>${escapeHtml(input.signedInAs)}</strong>. Sign in again to switch user.</p>`
  const returnTo =
    input.returnTo === undefined
      ? ''
      : `\n<input type="hidden" name="return_to" value="${escapeHtml(input.returnTo)}">`
  const value = input.userName === undefined ? '' : ` value="${escapeHtml(input.userName)}"`
  const invalid = input.error === undefined ? '' : ' aria-invalid="true" aria-describedby="error"'
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in: development identity provider</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }
label, input, button { display: block; font-size: 1rem; }
input { margin: 0.25rem 0 1rem; padding: 0.4rem; width: 100%; box-sizing: border-box; }
button { padding: 0.4rem 1rem; }
.error { color: #a00000; }
.note { color: #444; font-size: 0.9rem; }
</style>
</head>
<body>
<main>
<h1>Sign in</h1>
<p class="note">This is a development identity provider (jwks-bridge dev-issuer): any user name signs in, with no password. Never use it in production.</p>${status}${error}
<form method="post" action="${escapeHtml(input.action)}">${returnTo}
<label for="username">User name</label>
<input id="username" name="username" type="text" required maxlength="64" autocomplete="username" autofocus${value}${invalid}>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`
}
