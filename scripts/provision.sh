#!/usr/bin/env bash
# Installs the real services the test suites talk to (Debian packages), once.
# Idempotent: when every needed binary is present it exits within milliseconds.
# It never starts or enables a system service: a private policy-rc.d blocks
# the packages' init scripts during the install, and Postfix is installed only
# for smtp-source and smtp-sink (its MTA is never started).
set -euo pipefail

need_bins=(redis-server snmpd snmpget snmpwalk snmpbulkwalk clamd spamd spamc
           /usr/sbin/smtp-source /usr/sbin/smtp-sink tmux)
pkgs=(redis-server snmpd snmp postfix clamav-daemon clamav spamd spamc spamassassin tmux)
# Optional for later suites (browser tests); installed when asked.
if [[ "${VIGIL_PROVISION_BROWSER:-0}" == 1 ]]; then need_bins+=(chromium); pkgs+=(chromium); fi

missing=()
for b in "${need_bins[@]}"; do
  if [[ "$b" == /* ]]; then [[ -x "$b" ]] || missing+=("$b"); else command -v "$b" >/dev/null 2>&1 || [[ -x "/usr/sbin/$b" ]] || missing+=("$b"); fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "provision: all test services present"
  exit 0
fi
echo "provision: missing ${missing[*]}; installing Debian packages"

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# Block service start-up from maintainer scripts while we install.
policy=/usr/sbin/policy-rc.d
had_policy=0
if [[ -e $policy ]]; then had_policy=1; else
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
  $SUDO chmod 755 $policy
fi
cleanup() { if [[ $had_policy -eq 0 ]]; then $SUDO rm -f $policy; fi; }
trap cleanup EXIT

echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections

apt_update_stamp=/var/lib/apt/periodic/vigil-update-stamp
if [[ ! -e $apt_update_stamp ]] || [[ -n $(find $apt_update_stamp -mmin +1440 2>/dev/null) ]]; then
  $SUDO apt-get update -q
  $SUDO mkdir -p "$(dirname $apt_update_stamp)" && $SUDO touch $apt_update_stamp
fi
$SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}"
echo "provision: done"
