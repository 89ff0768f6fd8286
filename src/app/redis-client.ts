import type { Cluster, Redis } from 'ioredis'

/** host:port pairs of REDIS_CLUSTER_NODES. */
export interface ClusterSeed {
  host: string
  port: number
}

/**
 * The app's Redis client: one server (REDIS_URL) or a Redis Cluster found from its seeds
 * (REDIS_CLUSTER_NODES). Either way bounded failure: while a server (or a cluster's primary) is away,
 * the requests that need it answer 503 at once instead of queueing.
 */
export async function openRedisClient(
  target: { url: string } | { seeds: ClusterSeed[] },
): Promise<{ client: Redis | Cluster; disconnect(): void; connect(): Promise<void> }> {
  const { Cluster, Redis } = await import('ioredis')
  const connection = {
    // Fail fast while Redis is away instead of queueing requests (they answer 503).
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    // Never resend a command whose reply was lost: the replay guard's SET NX would then run twice
    // and answer a genuine first sign-in with ERR_TOKEN_REPLAYED (seen in the fault tests).
    autoResendUnfulfilledCommands: false,
  }
  // Reconnect quickly once Redis is back (the default backs off up to 2 s).
  const retry = (times: number) => Math.min(50 * times, 500)
  const client =
    'url' in target
      ? new Redis(target.url, {
          ...connection,
          enableOfflineQueue: false,
          lazyConnect: true,
          retryStrategy: retry,
        })
      : new Cluster(target.seeds, {
          redisOptions: connection,
          enableOfflineQueue: false,
          lazyConnect: true,
          clusterRetryStrategy: retry,
          slotsRefreshTimeout: 2000,
          // A MOVED or CLUSTERDOWN answer is retried a few times (the cluster is resharding or
          // electing); a lost connection is not (autoResendUnfulfilledCommands above).
          maxRedirections: 4,
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
        })
  // Without a listener ioredis prints a stack trace on every failed reconnect; requests already
  // answer 503 ERR_STORE_UNAVAILABLE while Redis is away, so a quiet listener is enough.
  client.on('error', () => {})
  return {
    client,
    disconnect: () => client.disconnect(),
    connect: async () => {
      await client.connect()
    },
  }
}

/** Parses REDIS_CLUSTER_NODES: comma-separated host:port; undefined when a part is not one. */
export function parseClusterSeeds(value: string): ClusterSeed[] | undefined {
  const seeds: ClusterSeed[] = []
  for (const part of value.split(',')) {
    const match = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):([0-9]{1,5})$/.exec(part.trim())
    if (match === null) return undefined
    const port = Number(match[2])
    if (port < 1 || port > 65_535) return undefined
    seeds.push({ host: (match[1] as string).replace(/^\[|\]$/g, ''), port })
  }
  return seeds
}
