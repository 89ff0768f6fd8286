// The benchmark's upstream: a plain node:http server answering a small JSON body, in its own process.
import http from 'node:http'

const body = JSON.stringify({ ok: true })
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
server.keepAliveTimeout = 65_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`)
})
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
setTimeout(() => process.exit(4), 10 * 60 * 1000).unref()
