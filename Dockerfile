# syntax=docker/dockerfile:1
# The controller image: Node.js 24 runs the TypeScript sources directly (type stripping),
# so there is no compile stage; the first stage only installs production dependencies.
#   docker build -t bind9-controller:dev .
#   docker run --rm bind9-controller:dev --help
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev also leaves out the `node` npm package: the image's own node is Node 24.
# --ignore-scripts: no production dependency needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
# Numeric, so Kubernetes can verify runAsNonRoot; 1000 is the `node` user of the base image.
# The files stay owned by root: the process can read but not change its own code.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "bin/bind9-controller.js"]
CMD ["run"]
