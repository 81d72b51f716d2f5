# syntax=docker/dockerfile:1
# The AI Coding Tutor server image: `docker compose -f compose.prod.yaml up -d --build` builds it.
# Stage 1 installs everything and builds; stage 2 keeps only what `node build/app.js` needs.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# Dependencies first, so source edits reuse this layer.
COPY package.json package-lock.json ./
# Our fix to @hono/node-server (applied by patch-package after install; see patches/README.md).
COPY patches ./patches
RUN npm ci
COPY . .
# Build, then drop dev dependencies (among them the `node` package that gives npm scripts Node 24 on
# machines with an older Node: here the base image's own Node 24 runs the server).
RUN npm run build \
	&& npm prune --omit=dev \
	&& npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
	HOST=0.0.0.0 \
	PORT=3000 \
	DATA_DIR=/data
WORKDIR /app
# Code stays owned by root and read-only to the server; only DATA_DIR is writable. Production keeps
# its data in PostgreSQL, so DATA_DIR stays empty unless an operator runs without DATABASE_URL.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build ./build
COPY --from=build /app/drizzle ./drizzle
COPY --from=build /app/content ./content
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# /health answers while the process serves; /api/health also checks the database (readiness).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
	CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: Node is PID 1 and receives SIGTERM itself (graceful shutdown, see src/serve.ts).
# The Node flags are those of `npm start` (package.json; tests/deploy.spec.ts keeps them equal): a
# young generation of 8 MB keeps each collection pause short while hundreds of answers stream.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=8", "build/app.js"]
