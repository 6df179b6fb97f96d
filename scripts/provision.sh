#!/usr/bin/env bash
# Installs the real services the test suites talk to (Debian 12 packages), once.
#
# Idempotent and fast: when every needed binary (and the accounts the harness runs services as)
# is present it exits in milliseconds without touching apt. It never starts or enables a system
# service: a private policy-rc.d blocks the packages' init scripts during the install, and Postfix
# is installed only for smtp-source and smtp-sink (its MTA is never started). Nothing under /etc is
# edited by the harness; tests run every service from a private config in a temp dir.
#
# Environment:
#   VIGIL_PROVISION_BROWSER=0   skip chromium (needed by the dashboard's page tests, renderPage)
#   VIGIL_PROVISION_COMPOSE=1   also install Debian's docker-compose (v1, ~46 packages incl. docker.io)
#                               so test/e2e/compose.test.ts can run `docker-compose config -q`
#   VIGIL_PROVISION_EXTRA="pkg ..."  extra Debian packages (e.g. swaks)
#   VIGIL_PROVISION_DRY_RUN=1   report what is missing and what would be installed, change nothing
set -euo pipefail

say() { printf 'provision: %s\n' "$*"; }
die() { printf 'provision: ERROR: %s\n' "$*" >&2; exit 1; }

# binary -> Debian package (nsd: the private DNS server of test/harness/dns.ts, DKIM key look-ups)
declare -A pkg_of=(
  [redis-server]=redis-server [redis-cli]=redis-tools
  [snmpd]=snmpd [snmpget]=snmp [snmpwalk]=snmp [snmpbulkwalk]=snmp [snmpgetnext]=snmp
  [clamd]=clamav-daemon [clamscan]=clamav
  [spamd]=spamd [spamc]=spamc [spamassassin]=spamassassin
  [smtp-source]=postfix [smtp-sink]=postfix
  [tmux]=tmux [smilint]=smitools
  [amavis-services]=amavisd-new [amavisd]=amavisd-new
  [nsd]=nsd
  [postgres]=postgresql-15 [initdb]=postgresql-15 [psql]=postgresql-client-15
  [slapd]=slapd [ldapsearch]=ldap-utils [ldapadd]=ldap-utils
)
need_bins=(redis-server redis-cli snmpd snmpget snmpwalk snmpbulkwalk snmpgetnext clamd clamscan spamd spamc spamassassin
           smtp-source smtp-sink tmux smilint amavis-services amavisd nsd
           postgres initdb psql slapd ldapsearch ldapadd)
# file (not a binary) -> Debian package. The interop tests (test/interop/) run the real amavis-services and amavisd
# (never as services) on ZMQ::FFI through a test-only ZMQ::LibZMQ3 shim, because Debian ships no ZMQ::LibZMQ3.
declare -A pkg_of_file=(
  [/usr/share/perl5/ZMQ/FFI.pm]=libzmq-ffi-perl
  # DKIM interop (test/interop/dkim.test.ts): Perl's Mail::DKIM signs and verifies against Vigil.
  [/usr/share/perl5/Mail/DKIM.pm]=libmail-dkim-perl
)
extra_pkgs=()
if [[ "${VIGIL_PROVISION_BROWSER:-1}" == 1 ]]; then need_bins+=(chromium); pkg_of[chromium]=chromium; fi
if [[ "${VIGIL_PROVISION_COMPOSE:-0}" == 1 ]]; then need_bins+=(docker-compose); pkg_of[docker-compose]=docker-compose; fi
if [[ -n "${VIGIL_PROVISION_EXTRA:-}" ]]; then read -r -a extra_pkgs <<<"$VIGIL_PROVISION_EXTRA"; fi

have() {
  local b=$1 d
  command -v "$b" >/dev/null 2>&1 && return 0
  for d in /usr/sbin /usr/local/sbin /sbin; do [[ -x "$d/$b" ]] && return 0; done
  # PostgreSQL's server binaries (initdb, postgres) live in Debian's versioned directory, off PATH.
  [[ -x /usr/lib/postgresql/15/bin/$b ]] && return 0
  return 1
}

missing=()
pkgs=()
for b in "${need_bins[@]}"; do
  if ! have "$b"; then
    missing+=("$b")
    p=${pkg_of[$b]}
    [[ " ${pkgs[*]} " == *" $p "* ]] || pkgs+=("$p")
  fi
done
for f in "${!pkg_of_file[@]}"; do
  if [[ ! -e $f ]]; then
    missing+=("$f")
    p=${pkg_of_file[$f]}
    [[ " ${pkgs[*]} " == *" $p "* ]] || pkgs+=("$p")
  fi
done
for p in "${extra_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || pkgs+=("$p")
done
# spamd drops to debian-spamd when run as root, smtp-sink to nobody: both come with the packages.
if [[ ${#missing[@]} -eq 0 ]] && ! getent passwd debian-spamd >/dev/null; then missing+=(user:debian-spamd); pkgs+=(spamd); fi

if [[ ${#pkgs[@]} -eq 0 ]]; then
  say "all test services present"
  exit 0
fi
say "missing: ${missing[*]:-none}${extra_pkgs[*]:+ (extra: ${extra_pkgs[*]})}"
say "Debian packages to install: ${pkgs[*]}"
if [[ "${VIGIL_PROVISION_DRY_RUN:-0}" == 1 ]]; then
  say "dry run: nothing installed"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script supports Debian/Ubuntu only; install the packages above by hand"
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run as root, or install: ${pkgs[*]}"
  SUDO=(sudo)
else
  SUDO=()
fi
export DEBIAN_FRONTEND=noninteractive

# Block service start-up from maintainer scripts while we install (and only while we install).
policy=/usr/sbin/policy-rc.d
had_policy=0
if [[ -e $policy ]]; then had_policy=1; else
  printf '#!/bin/sh\n# vigil provision: keep package services stopped\nexit 101\n' | "${SUDO[@]}" tee $policy >/dev/null
  "${SUDO[@]}" chmod 755 $policy
fi
cleanup() { if [[ $had_policy -eq 0 ]]; then "${SUDO[@]}" rm -f $policy; fi; }
trap cleanup EXIT

if [[ " ${pkgs[*]} " == *" postfix "* ]]; then
  # Postfix without an MTA configuration: we only want smtp-source and smtp-sink.
  echo "postfix postfix/main_mailer_type select No configuration" | "${SUDO[@]}" debconf-set-selections
  echo "postfix postfix/mailname string localhost" | "${SUDO[@]}" debconf-set-selections
fi

if [[ " ${pkgs[*]} " == *" slapd "* ]]; then
  # slapd only as a binary: no system directory, the harness runs it from a private slapd.conf.
  echo "slapd slapd/no_configuration boolean true" | "${SUDO[@]}" debconf-set-selections
fi

apt_opts=(-q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt_update_stamp=/var/lib/apt/periodic/vigil-update-stamp
if [[ ! -e $apt_update_stamp ]] || [[ -n $(find $apt_update_stamp -mmin +1440 2>/dev/null) ]]; then
  say "apt-get update"
  "${SUDO[@]}" apt-get "${apt_opts[@]}" update
  "${SUDO[@]}" mkdir -p "$(dirname $apt_update_stamp)" && "${SUDO[@]}" touch $apt_update_stamp
fi
say "apt-get install ${pkgs[*]}"
if ! "${SUDO[@]}" apt-get "${apt_opts[@]}" install --no-install-recommends "${pkgs[@]}"; then
  say "install failed; refreshing the package lists once and retrying"
  "${SUDO[@]}" apt-get "${apt_opts[@]}" update
  "${SUDO[@]}" apt-get "${apt_opts[@]}" install --no-install-recommends "${pkgs[@]}"
fi

still=()
for b in "${missing[@]}"; do
  if [[ $b == user:* ]]; then getent passwd "${b#user:}" >/dev/null || still+=("$b")
  elif [[ $b == /* ]]; then [[ -e $b ]] || still+=("$b")
  else have "$b" || still+=("$b"); fi
done
[[ ${#still[@]} -eq 0 ]] || die "still missing after install: ${still[*]}"
say "done"
