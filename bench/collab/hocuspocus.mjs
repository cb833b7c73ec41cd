// bench/collab/hocuspocus.mjs: the peer server, Hocuspocus as its README
// starts it, in memory (no persistence extension), no logging.
//   node hocuspocus.mjs PORT
// Prints "listening PORT" when it accepts connections.
import { Server } from '@hocuspocus/server'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node hocuspocus.mjs PORT')
  process.exit(2)
}
const server = Server.configure({ port, address: '127.0.0.1', quiet: true })
await server.listen()
console.log(`listening ${port}`)
