# Shipshape container image: one image for the API (default), the Temporal
# worker and the migration job. Compose picks the process with `command:`.
#
#   API:        node dist/api/main.js                          (default CMD)
#   worker:     node dist/workers/main.js
#   migrations: ./node_modules/.bin/node-pg-migrate up -m migrations
#
# BuildKit (the default builder since Docker 23) is needed for the npm cache
# mounts below.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
WORKDIR /app

# ---------------------------------------------------------------------------
# build: full dependency tree (TypeScript, etc.), compile to dist/ and prebuild
# the Temporal workflow bundle so the worker does not run webpack at start-up.
FROM base AS build
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
# build:workflows is optional: without dist/workflow-bundle.js the worker
# bundles the workflow code itself when it starts.
RUN npm run build \
 && npm run build:workflows --if-present

# ---------------------------------------------------------------------------
# prod-deps: production dependencies only, installed in a clean stage so no
# dev tooling leaks into the runtime image.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------
FROM base AS runtime

# tini: PID 1 that forwards SIGTERM/SIGINT to node and reaps zombies, so
# `docker stop` lets the worker drain instead of being killed after the timeout.
# ca-certificates: TLS to a managed Temporal / PostgreSQL endpoint.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    SHIPSHAPE_API_PORT=8080 \
    SHIPSHAPE_POLICY_DIR=/app/policies

# Files stay owned by root: the app only reads them at runtime.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY policies ./policies

# Unprivileged user shipped with the official node image (uid 1000).
USER node

EXPOSE 8080

# No HEALTHCHECK here: the same image also runs the worker and the migration
# job, which have no HTTP endpoint. Compose defines the API's healthcheck.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/api/main.js"]
