// amavisAccount entries (Debian's amavis.schema) mirroring amavis-sql-fixture.ts's data set.
export const PEOPLE = 'ou=People,dc=example,dc=com'

function entry(cn: string, mail: string, attrs: Record<string, string | string[]>): string {
  const lines = [
    `dn: cn=${cn},${PEOPLE}`,
    'objectClass: inetOrgPerson',
    'objectClass: amavisAccount',
    `cn: ${cn}`,
    `sn: ${cn}`,
    `mail: ${mail}`,
  ]
  for (const [k, v] of Object.entries(attrs)) for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`)
  return lines.join('\n') + '\n'
}

export const LDIF = [
  `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: People\n`,
  entry('lover', 'lover@example.com', {
    amavisSpamLover: 'TRUE',
    amavisSpamKillLevel: '3.0',
    amavisBlacklistSender: ['@spam.example'],
    amavisWhitelistSender: ['friend@sender.example'],
  }),
  entry('low', 'low@example.com', {
    amavisSpamTag2Level: '2.0',
    amavisSpamKillLevel: '3.0',
    amavisSpamSubjectTag2: '[LOW] ',
  }),
  entry('domain', '@example.com', { amavisSpamLover: 'FALSE' }),
  entry('catchall', '@.', {
    amavisSpamTag2Level: '6.0',
    amavisSpamKillLevel: '8.0',
    amavisBlacklistSender: ['@spam.example'],
  }),
].join('\n')
