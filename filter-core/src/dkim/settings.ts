// The DKIM settings in force for a message: the global ones with its loaded policy banks laid on
// top in load order (a later bank wins, as amavis's load_policy_bank), tables built once per bank
// combination and per configuration object.
import type { DkimSignatureOptions, FilterConfig } from '../config.ts'
import { buildMaps } from '../lookup/spec.ts'
import { createHashTable } from '../lookup/hash.ts'
import { createMapsList } from '../lookup/maps.ts'
import type { LookupTable, LookupValue } from '../lookup/table.ts'
import { effectiveConfig } from '../pipeline/settings.ts'

export interface DkimSettings {
  verify: boolean
  sign: boolean
  reputationFactor: number
  minimumKeyBits: number
  /** @signer_reputation_maps, asked with '@' + signing domain. */
  signerReputation: LookupTable<LookupValue>
  /** @dkim_signature_options_bysender_maps, asked with the author's (or sender's) address. */
  signatureOptions: LookupTable<DkimSignatureOptions>
}

const byConfig = new WeakMap<FilterConfig, Map<string, DkimSettings>>()

export function dkimSettings(cfg: FilterConfig, bankNames: readonly string[]): DkimSettings {
  let forCfg = byConfig.get(cfg)
  if (!forCfg) byConfig.set(cfg, (forCfg = new Map()))
  const key = bankNames.join('\0')
  let s = forCfg.get(key)
  if (!s) forCfg.set(key, (s = compile(cfg, bankNames)))
  return s
}

function compile(cfg0: FilterConfig, bankNames: readonly string[]): DkimSettings {
  const cfg = effectiveConfig(cfg0, bankNames)
  const opts = {
    recipientDelimiter: cfg0.recipient_delimiter,
    localpartIsCaseSensitive: cfg0.localpart_is_case_sensitive,
  }
  return {
    verify: cfg.enable_dkim_verification,
    sign: cfg.enable_dkim_signing,
    reputationFactor: cfg.reputation_factor,
    minimumKeyBits: cfg0.dkim_minimum_key_bits,
    signerReputation: buildMaps(cfg.signer_reputation_maps, 'number', opts),
    signatureOptions: createMapsList(
      cfg.dkim_signature_options_bysender_maps.map((t) => createHashTable<DkimSignatureOptions>(t, opts)),
    ),
  }
}
