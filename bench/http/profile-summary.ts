// Summarizes a V8 CPU profile (from `BENCH_CPU_PROF=reference npm run bench:http`): where the time
// went, by function (self time) and by module, and the inclusive time of functions matching a filter.
//   node --import tsx bench/http/profile-summary.ts <file.cpuprofile> [top=25] [filter regexp]
import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const [file, topArg, filterArg] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [top] [filter regexp]\n')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

// Time per sample: its delta (µs) to the next one.
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!
  const delta = profile.timeDeltas[i + 1] ?? 0
  selfUs.set(id, (selfUs.get(id) ?? 0) + delta)
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0)

function moduleOf(url: string): string {
  if (url === '') return '(native / V8)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm !== null) return nm[1]!
  if (url.startsWith('node:')) return url
  const src = /\/(src|bench)\/(.*)$/.exec(url)
  return src === null ? url : `${src[1]}/${src[2]}`
}
const label = (frame: CallFrame) =>
  `${frame.functionName || '(anonymous)'} ${moduleOf(frame.url)}:${frame.lineNumber + 1}`

const fnSelf = new Map<string, number>()
const modSelf = new Map<string, number>()
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame
  const name = frame.url === '' ? frame.functionName : label(frame)
  fnSelf.set(name, (fnSelf.get(name) ?? 0) + us)
  const mod = frame.url === '' ? frame.functionName : moduleOf(frame.url)
  modSelf.set(mod, (modSelf.get(mod) ?? 0) + us)
}

const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%`
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`
const print = (title: string, entries: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`)
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(us)} ${ms(us)}  ${name}\n`)
}
process.stdout.write(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled\n`)
print('Self time by module', modSelf)
print('Self time by function', fnSelf)

if (filterArg !== undefined) {
  // Inclusive time: a sample counts once for each distinct matching frame on its stack.
  const filter = new RegExp(filterArg)
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      const name = label(frame)
      if (!seen.has(name) && filter.test(name)) {
        seen.add(name)
        inclusive.set(name, (inclusive.get(name) ?? 0) + us)
      }
    }
  }
  print(`Inclusive time of functions matching /${filterArg}/`, inclusive)
}
