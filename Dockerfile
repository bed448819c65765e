# The Node the test suite runs on: .nvmrc says the same (.ci/node24.sh checks).
ARG NODE_VERSION=24.22.3

# Build stage: compile TypeScript.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
COPY package.json package-lock.json ./
# The workspace packages' manifests, so npm ci can link them (their sources come below).
COPY src/contracts/package.json ./src/contracts/
COPY client/sdk/package.json ./client/sdk/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY client ./client
COPY migrations ./migrations
COPY bench ./bench
COPY docs ./docs
RUN npm run build && npm prune --omit=dev

# Runtime stage: the compiled app and production dependencies only.
FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 DATA_DIR=/data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/docs ./docs
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:3000/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
