/**
 * Whether a host name is a loopback address: 127.0.0.0/8, ::1 or localhost. Plain http is allowed only
 * there, for development against a local identity provider.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  if (host === 'localhost' || host === '::1') return true
  const parts = host.split('.')
  return (
    parts.length === 4 &&
    parts[0] === '127' &&
    parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)
  )
}

/**
 * Whether a socket's peer address is this machine: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x. Give it
 * only an address the runtime took from the connection (the kernel), never one a client wrote.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (typeof address !== 'string') return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}
