#!/usr/bin/env bash
# Install the Debian packages the traffic lab needs (idempotent; needs root).
# The lab starts its own server processes inside its network namespaces, so the
# packages' system services are kept from starting on the host during install.
set -euo pipefail

PKGS=(
  iproute2 procps psmisc tcpdump ethtool
  openssh-server openssh-client sshpass
  vsftpd lftp
  nginx openssl
  dnsmasq-base dnsutils
  curl wget netcat-openbsd iputils-ping
  nmap hping3 hydra medusa sqlmap slowhttptest iodine
  tshark
  # benign office and server-room services (issue 32): servers and their clients
  samba smbclient rsync
  swaks dovecot-imapd dovecot-pop3d
  slapd ldap-utils krb5-kdc krb5-admin-server krb5-user
  mariadb-server mariadb-client postgresql postgresql-client redis-server redis-tools
  chrony ntpsec-ntpdate snmpd snmp rsyslog bsdutils
  isc-dhcp-client avahi-daemon
  mosquitto mosquitto-clients sip-tester tigervnc-standalone-server
  chromium
  # benign peer-to-peer file sharing and relayed calls (the p2p scenario, issue 32)
  opentracker mktorrent aria2 transmission-cli coturn
)

if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: needs root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "lab dependencies already installed"
  exit 0
fi

# Keep the packages' services from starting on the host (the lab runs its own copies
# inside network namespaces). Restore any existing policy afterwards.
policy=/usr/sbin/policy-rc.d
backup=""
if [ -e "$policy" ]; then backup=$(mktemp); cp -p "$policy" "$backup"; fi
restore() {
  if [ -n "$backup" ]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi
}
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' > "$policy"
chmod +x "$policy"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "installed: ${missing[*]}"
