// Start a PLC directory and a Bluesky PDS on loopback, for chanpub's `pds` tests.
//
//   node start.mjs   (Node 22, from install.sh)
//
// Reads CHANPUB_PDS_DIR (the install folder), PLC_PORT, PDS_PORT and PDS_DATA (a fresh
// folder for the PDS's databases and blobs). Prints one JSON line {"pds": URL, "plc": URL}
// once both answer, then runs until it is terminated. Every server binds 127.0.0.1 only,
// and nothing is contacted outside this machine (no crawlers, no AppView, no e-mail).
import { createRequire } from 'node:module'
import crypto from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = process.env.CHANPUB_PDS_DIR || '/opt/chanpub/bluesky-pds'
const plcPort = Number(process.env.PLC_PORT)
const pdsPort = Number(process.env.PDS_PORT)
const data = process.env.PDS_DATA
if (!plcPort || !pdsPort || !data) {
  console.error('start.mjs: set PLC_PORT, PDS_PORT and PDS_DATA')
  process.exit(2)
}

// Both servers call listen(port) without a host, which means every interface: pin them to
// loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
  return listen.apply(this, args)
}

const require = createRequire(path.join(dir, 'package.json'))
const { PlcServer, Database } = require('@did-plc/server')
const plc = PlcServer.create({ db: Database.mock(), port: plcPort })
await plc.start()

const hex = (bytes) => crypto.randomBytes(bytes).toString('hex')
Object.assign(process.env, {
  PDS_PORT: String(pdsPort),
  PDS_HOSTNAME: 'localhost',
  PDS_DEV_MODE: 'true',
  PDS_INVITE_REQUIRED: 'false',
  PDS_SERVICE_HANDLE_DOMAINS: '.test',
  PDS_DID_PLC_URL: `http://localhost:${plcPort}`, // a host name: the PDS refuses IP literals
  PDS_DATA_DIRECTORY: data,
  PDS_BLOBSTORE_DISK_LOCATION: path.join(data, 'blobs'),
  PDS_JWT_SECRET: hex(16),
  PDS_ADMIN_PASSWORD: hex(16),
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: hex(32),
  PDS_CRAWLERS: '',
  LOG_ENABLED: 'false',
})
const pdsModule = await import(pathToFileURL(require.resolve('@atproto/pds')).href)
const { PDS, envToCfg, envToSecrets, readEnv } = pdsModule
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.start()
console.log(JSON.stringify({ pds: `http://localhost:${pdsPort}`, plc: `http://localhost:${plcPort}` }))

const stop = async () => {
  await pds.destroy()
  await plc.destroy()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
