// mailauth's DKIM verifier and signer, imported statically so the worker bundle
// (cluster/worker-bundle.ts, esbuild) carries them; verify.ts and sign.ts import this module
// dynamically, so mailauth and its dependencies (joi, libmime, tldts) are only initialised in a
// worker once it meets DKIM.
import verifyModule from 'mailauth/lib/dkim/verify.js'
import signModule from 'mailauth/lib/dkim/sign.js'

export const dkimVerify = verifyModule.dkimVerify
export const dkimSign = signModule.dkimSign
