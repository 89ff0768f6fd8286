// The adapter conformance suite (jwks-bridge/testing), run by every adapter the package ships, each
// behind a real server on 127.0.0.1.
import { describeAdapterConformance } from '../../src/testing/adapter-conformance.ts'
import { ADAPTER_APPS } from './apps.ts'

for (const [name, serve] of ADAPTER_APPS) describeAdapterConformance(name, { serve })
