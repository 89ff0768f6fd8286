// Raw HTTP/1.1 over a socket, for requests fetch cannot make: repeated headers, odd spellings.
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Sends `GET path` with the given header lines (sent exactly as written) and reads the whole answer. */
export function rawGet(
  port: number,
  path: string,
  lines: readonly string[],
  host = `127.0.0.1:${port}`,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const [head = '', body = ''] = text.split('\r\n\r\n', 2)
      const [statusLine = '', ...headerLines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of headerLines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body })
    })
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`,
    )
  })
}
