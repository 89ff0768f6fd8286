/** Longest user name, in characters (Unicode code points). */
export const MAX_USER_NAME_LENGTH = 64

export type UserNameResult = { ok: true; value: string } | { ok: false; error: string }

/**
 * The user name typed on the sign-in page, which becomes the tokens' `sub`: trimmed, 1 to 64
 * characters, no control characters (they would reach logs and pages of the app that shows it).
 */
export function checkUserName(raw: string): UserNameResult {
  const value = raw.trim()
  const length = [...value].length
  if (length === 0) return { ok: false, error: 'Type a user name (1 to 64 characters).' }
  if (length > MAX_USER_NAME_LENGTH) {
    return { ok: false, error: `The user name is too long: at most ${MAX_USER_NAME_LENGTH} characters.` }
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    return { ok: false, error: 'The user name must not contain control characters.' }
  }
  return { ok: true, value }
}
