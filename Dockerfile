# syntax=docker/dockerfile:1
# liveswap as a service: `liveswap serve` (the HTTP API) by default, `liveswap worker` with another
# command (see compose.yaml). Two stages: the build stage installs everything and compiles, the
# runtime stage keeps the compiled code and the production dependencies only. Models are converted
# into /data (LIVESWAP_HOME) at first start, so mount a volume there.
#
# Checked statically by test/deploy/docker.test.ts (commands, copied files, health route). No
# container engine runs where liveswap is developed, so building and running the image is unverified.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The pnpm-workspace.yaml marker lets @contentauth/c2pa-node skip its binary download (it ships one).
COPY package.json package-lock.json .npmrc pnpm-workspace.yaml ./
# No install scripts: `prepare` would build before the sources are here; .npmrc skips onnxruntime-node's download.
RUN npm ci --ignore-scripts --no-audit --no-fund
# @ffmpeg-installer's only install step, skipped with the scripts above.
RUN chmod u+x node_modules/@ffmpeg-installer/linux-x64/ffmpeg
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The fixture photos `liveswap demo` uses (part of the npm package too).
COPY --from=build /app/test/fixtures/faces ./test/fixtures/faces
RUN mkdir -p /data && chown node:node /data
USER node
ENV LIVESWAP_HOME=/data NODE_ENV=production
VOLUME /data
EXPOSE 8080
# The slim image has no curl: Node's fetch asks the unauthenticated health route.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["tini", "--", "node", "dist/cli/main.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
