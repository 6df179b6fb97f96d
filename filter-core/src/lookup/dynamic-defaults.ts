// Defaults of the SQL and LDAP lookups, apart from the clients so the config schema can name them
// without loading pg, better-sqlite3 or ldapts.

/** amavisd.conf-default $sql_select_policy. */
export const DEFAULT_SQL_SELECT_POLICY =
  'SELECT *,users.id FROM users LEFT JOIN policy ON users.policy_id=policy.id' +
  ' WHERE users.email IN (%k) ORDER BY users.priority DESC'
/** amavisd.conf-default $sql_select_white_black_list. */
export const DEFAULT_SQL_SELECT_WBLIST =
  'SELECT wb FROM wblist JOIN mailaddr ON wblist.sid=mailaddr.id' +
  ' WHERE wblist.rid=? AND mailaddr.email IN (%k) ORDER BY mailaddr.priority DESC'

/** A DSN Vigil accepts in lookup_sql_dsn: postgres:// or postgresql:// URLs, sqlite:PATH. */
export const SQL_DSN_RE = /^(postgres(ql)?:\/\/\S+|sqlite:\S+)$/

/** README.ldap's default query_filter. */
export const DEFAULT_LDAP_FILTER = '(&(objectClass=amavisAccount)(mail=%m))'
