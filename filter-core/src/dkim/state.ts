// What the DKIM stages found and did for one message (MessageContext.dkim).
import type { SignPlan } from './sign.ts'
import type { DkimSignature } from './verify.ts'

export interface NewSignature {
  domain: string
  selector: string
}

export interface DkimState {
  /** Every signature of the incoming message (amavis dkim_signatures_all). */
  signatures: DkimSignature[]
  /** The valid, unexpired ones (dkim_signatures_valid). */
  valid: DkimSignature[]
  /** Domain of a valid author domain signature (dkim_author_sig). */
  authorSig?: string
  /** Signatures Vigil added (dkim_signatures_new). */
  newSigs: NewSignature[]
  /** The key and options the dkim-sign stage chose; the forward stage signs each copy it sends. */
  signPlan?: SignPlan
}

export function emptyDkimState(): DkimState {
  return { signatures: [], valid: [], newSigs: [] }
}
