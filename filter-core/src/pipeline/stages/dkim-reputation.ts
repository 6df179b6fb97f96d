// amavis adjust_score_by_signer_reputation: after the spam scan, the score is pulled towards the
// best (lowest) reputation @signer_reputation_maps gives a valid signature's domain:
//   adjusted = f·reputation + (1 − f)·score,  f = $reputation_factor
// and the change is the first test, AM.DKIM_REPUT=<delta>. A signature made with a key shorter
// than $dkim_minimum_key_bits earns no reputation.
import { dkimSettings } from '../../dkim/settings.ts'
import type { Stage } from './stage.ts'

export const dkimReputation: Stage = {
  name: 'dkim-reputation',
  applies: (ctx) => !!ctx.spam && ctx.dkim.valid.length > 0,
  run(ctx) {
    const s = dkimSettings(ctx.deps.cfg, ctx.bankNames)
    if (!(s.reputationFactor > 0)) return
    let best: { domain: string; score: number } | undefined
    for (const sig of ctx.dkim.valid) {
      const v = s.signerReputation.lookup(`@${sig.domain}`)
      if (typeof v !== 'number' || (best && v >= best.score)) continue
      if (s.minimumKeyBits && sig.keyBits && sig.keyBits < s.minimumKeyBits) {
        ctx.log.info(
          `(${ctx.taskId}) dkim: reputation for signing domain ${sig.domain} not used, valid signature ignored, ${sig.keyBits}-bit key is shorter than ${s.minimumKeyBits}`,
        )
        continue
      }
      best = { domain: sig.domain, score: v }
    }
    if (!best) return
    const spam = ctx.spam!
    const f = s.reputationFactor
    const score = f * best.score + (1 - f) * spam.score
    const delta = Number((score - spam.score).toFixed(3))
    ctx.spam = { ...spam, score, tests: [{ name: 'AM.DKIM_REPUT', score: delta }, ...spam.tests] }
    ctx.log.debug(
      `(${ctx.taskId}) dkim: score ${spam.score.toFixed(3)} adjusted to ${score.toFixed(3)} due to reputation (${best.score}) of a signer domain ${best.domain}`,
    )
  },
}
