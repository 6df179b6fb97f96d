// The DKIM settings in force for a message: the global ones with its loaded policy banks laid on
// top in load order (a later bank wins, as amavis's load_policy_bank), tables built once per bank
// combination and per configuration object.
import type { DkimSignatureOptions, FilterConfig } from '../config.ts'
import { buildMaps } from '../lookup/spec.ts'
import { createHashTable } from '../lookup/hash.ts'
import { createMapsList } from '../lookup/maps.ts'
import type { LookupTable, LookupValue } from '../lookup/table.ts'

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

function compile(cfg: FilterConfig, bankNames: readonly string[]): DkimSettings {
  const pick = <K extends keyof FilterConfig>(k: K): FilterConfig[K] => {
    let v = cfg[k]
    for (const n of bankNames) {
      const b = cfg.policy_banks[n] as Partial<FilterConfig> | undefined
      if (b && b[k] !== undefined) v = b[k] as FilterConfig[K]
    }
    return v
  }
  const opts = {
    recipientDelimiter: cfg.recipient_delimiter,
    localpartIsCaseSensitive: cfg.localpart_is_case_sensitive,
  }
  return {
    verify: pick('enable_dkim_verification'),
    sign: pick('enable_dkim_signing'),
    reputationFactor: pick('reputation_factor'),
    minimumKeyBits: cfg.dkim_minimum_key_bits,
    signerReputation: buildMaps(pick('signer_reputation_maps'), 'number', opts),
    signatureOptions: createMapsList(
      pick('dkim_signature_options_bysender_maps').map((t) => createHashTable<DkimSignatureOptions>(t, opts)),
    ),
  }
}
