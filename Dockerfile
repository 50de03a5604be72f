# syntax=docker/dockerfile:1
# One image for every Runnerly process: each service, the edge, the `runnerly`
# CLI and the deploy helpers. The command (or SERVICE) picks the process:
#
#   docker build -t runnerly .
#   docker run -e SERVICE=runs runnerly                 # bun dist/runs/main.js (built below)
#   docker run -e SERVICE=edge runnerly                 # bun dist/edge/main.js
#   docker run runnerly bun cli/main.ts provision       # any command
#
# compose.yml builds it once and runs it for every service, the edge, the
# one-shot nats-auth and provision steps. See docs/deploy.md.

# Keep in step with the `bun` devDependency in package.json.
ARG BUN_VERSION=1.4.5

# The package manifests only, so that the dependency layer below is rebuilt
# when they change and not when code does (COPY of services/*/package.json
# would flatten the folders, and listing each service would be one more place
# to touch when adding one).
FROM oven/bun:${BUN_VERSION}-slim AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -type d -empty -delete

# Production dependencies from package-lock.json (Bun reads npm's lockfile;
# --frozen-lockfile fails if package.json and the lockfile disagree). No
# install scripts: the native @libsql packages are prebuilt per platform.
FROM oven/bun:${BUN_VERSION}-slim AS deps
WORKDIR /app
COPY --from=manifests /app ./
RUN bun install --frozen-lockfile --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    EDGE_HOST=0.0.0.0 \
    EDGE_PORT=8787 \
    DATA_DIR=/var/lib/runnerly \
    MIMALLOC_PURGE_DELAY=-1
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Each service and the edge as one bundle with bytecode (dist/<name>/main.js),
# which the entry point runs: about half the start-up of the sources
# (BENCHMARKS.md).
RUN bun cli/main.ts build
# The code stays root's; the process runs as `bun` (uid 1000) and writes only
# its data dir, which a fresh named volume mounted there inherits.
RUN chmod 0755 deploy/entrypoint.sh \
 && mkdir -p /var/lib/runnerly \
 && chown bun:bun /var/lib/runnerly
USER bun
EXPOSE 8080 8787
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["bun", "/app/deploy/healthcheck.ts"]
