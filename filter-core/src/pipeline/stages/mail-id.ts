// 'G': the message's mail_id (12 base64url characters, as amavis's).
import { randomFillSync } from 'node:crypto'
import type { Stage } from './stage.ts'

// Random bytes are drawn 512 ids at a time: one getrandom call per id cost ~15 µs a message.
const ID_POOL = Buffer.alloc(9 * 512)
let idPoolUsed = ID_POOL.length

export function generateMailId(): string {
  if (idPoolUsed === ID_POOL.length) {
    randomFillSync(ID_POOL)
    idPoolUsed = 0
  }
  const id = ID_POOL.toString('base64url', idPoolUsed, idPoolUsed + 9)
  idPoolUsed += 9
  return id
}

export const mailId: Stage = {
  name: 'mail-id',
  state: 'G',
  run(ctx) {
    ctx.mailId = generateMailId()
  },
}
