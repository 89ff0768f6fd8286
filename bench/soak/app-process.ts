// The reference app in a process of its own for the soak, configured from the environment exactly as
// `jwks-bridge serve` is (src/app/config.ts). It tells its parent its URL over IPC, answers memory
// questions over IPC (heap after a full collection: figures only this process knows), and closes
// cleanly on 'stop' or SIGTERM.
import { readConfig } from '../../src/app/config.ts'
import { startApp } from '../../src/app/server.ts'

export type ParentMessage = { type: 'memory' } | { type: 'stop' }
export type ChildMessage =
  | { type: 'ready'; url: string }
  | {
      type: 'memory'
      rss: number
      heapTotal: number
      heapUsed: number
      external: number
      arrayBuffers: number
    }
  | { type: 'failed'; message: string }

const send = (message: ChildMessage) => process.send?.(message)

try {
  const app = await startApp(readConfig(process.env))
  let closing = false
  const close = async () => {
    if (closing) return
    closing = true
    await app.close()
    process.disconnect?.()
    process.exit(0)
  }
  process.on('SIGTERM', close)
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') void close()
    else if (message.type === 'memory') {
      // Started with --expose-gc: a full collection first, so that heapUsed is what is really kept
      // (without it the figure mostly says how far the collector happens to be behind).
      ;(globalThis as { gc?: () => void }).gc?.()
      send({ type: 'memory', ...process.memoryUsage() })
    }
  })
  // The parent going away (even killed) must not leave the app running.
  process.on('disconnect', () => void close())
  send({ type: 'ready', url: app.url })
} catch (error) {
  send({ type: 'failed', message: (error as Error).message })
  process.exit(1)
}
