# syntax=docker/dockerfile:1
# Images for docker-compose.yml. Targets: snmpd (AgentX master), spamd (SpamAssassin daemon) and
# vigil (default, last): every Vigil component, run as `node bin/vigil.mjs <command>`.

FROM debian:bookworm-slim AS snmpd
RUN apt-get update \
 && apt-get install -y --no-install-recommends snmpd snmp \
 && rm -rf /var/lib/apt/lists/*
ENV MIBS=
EXPOSE 161/udp
CMD ["snmpd", "-f", "-Lo", "-C", "-c", "/etc/snmp/vigil/snmpd.conf", "-I", "-smux"]

FROM debian:bookworm-slim AS spamd
RUN apt-get update \
 && apt-get install -y --no-install-recommends spamd spamc spamassassin \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 783
# -L: local tests only (no network lookups); -x: no per-user config.
CMD ["spamd", "--listen=0.0.0.0:783", "--allowed-ips=127.0.0.1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16", "-L", "-x", "-u", "debian-spamd", "-s", "stderr", "--max-children=5", "--helper-home-dir=/var/lib/spamassassin"]

FROM node:20-bookworm-slim AS vigil
# snmp: net-snmp client tools for the snmp-agent healthcheck.
RUN apt-get update \
 && apt-get install -y --no-install-recommends snmp \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/vigil
# Manifests first so the dependency layer is cached across source changes.
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY filter-core/package.json filter-core/
COPY collector/package.json collector/
COPY status-cli/package.json status-cli/
COPY snmp-agent/package.json snmp-agent/
COPY cli/package.json cli/
COPY dashboard/server/package.json dashboard/server/
# The devDependencies (typescript, esbuild, vite) build; they are pruned before the image is done.
RUN npm ci --no-audit --no-fund
COPY . .
# The dashboard's React app into dashboard/web/dist, the TypeScript into dist/ (ADR 0016), then
# the devDependencies go: the image runs plain JavaScript, no tsx.
RUN bash scripts/build-web.sh \
 && node scripts/build.mjs \
 && npm prune --omit=dev --no-audit --no-fund
RUN mkdir -p /var/lib/vigil /etc/vigil && chown node:node /var/lib/vigil
ENV VIGIL_CONFIG=/etc/vigil/vigil.yaml MIBS= VIGIL_RUNTIME=dist
USER node
EXPOSE 10024 23232 23233 23234 23235
CMD ["node", "bin/vigil.mjs", "--config", "/etc/vigil/vigil.yaml", "start"]
