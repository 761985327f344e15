# syntax=docker/dockerfile:1
# The controller image. The build stage compiles src/ to plain JavaScript (npm run build →
# dist/, tsconfig.build.json); the image runs dist/src/cli/main.js. Running the .ts sources
# directly would also work on Node 24 (type stripping), but costs ~27 MB more RSS and about
# twice the start-up (idle controller, 2026-11-27: JS 91 MB / 0.48 s to watches established,
# .ts 118 MB / 0.96 s); development and tests still run the sources (bin/).
#   docker build -t bind9-controller:dev .
#   docker run --rm bind9-controller:dev --help
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dev dependencies too (typescript, @types/node). --ignore-scripts: the `node` npm package's
# download script is not needed, the image's own node is Node 24.
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev also leaves out the `node` npm package: the image's own node is Node 24.
# --ignore-scripts: no production dependency needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

FROM ${NODE_IMAGE}
# Heap sizing (issue #9; bench/RESULTS.md, memory): by default V8 sizes its heap from the
# machine's RAM and lets the young generation grow to 128 MB under a burst of updates (283 MB
# RSS after converging 10,000 records, for ~45 MB of live data). A 2 MB semi-space keeps the
# young generation at 6 MB; the 256 MB old space is a ceiling (live heap ~5 KB/record: room
# for 30,000+ records), not a target; two malloc arenas give back memory glibc kept per
# thread. deploy/deployment.yaml repeats these values (test/integration/deploy-flags.test.ts
# checks they agree) and bench/memory.ts runs the controller with them.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=256" \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
# Numeric, so Kubernetes can verify runAsNonRoot; 1000 is the `node` user of the base image.
# The files stay owned by root: the process can read but not change its own code.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["run"]
