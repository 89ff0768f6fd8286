// Shared by the bench:api children: required environment, and an Express app on 127.0.0.1:port.
import type { Express } from 'express'
import type { ChildApp } from '../http/serve-child.ts'

export function required(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

export async function listenExpress(app: Express, port: number, onClose: () => void): Promise<ChildApp> {
  const server = app.listen(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        onClose()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
