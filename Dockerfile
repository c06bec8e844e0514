# One image for the Tenantflow server and worker (the command picks which).
# Node 24 runs the TypeScript sources directly (type stripping), so there is no compile stage;
# the designer is built with Vite in the build stage.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node -e "import('./scripts/designer-build.ts').then((m) => m.buildDesignerIfStale())" && mkdir -p designer/dist

FROM node:24-bookworm-slim
ENV NODE_ENV=production TENANTFLOW_DATA=/app/data
# openssl: deploy/compose-certs.sh (the compose file's one-shot `certs` service).
RUN apt-get update && apt-get install -y --no-install-recommends openssl \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/m365 ./m365
COPY --from=build /app/catalog ./catalog
COPY --from=build /app/runbook ./runbook
COPY --from=build /app/workflows ./workflows
COPY --from=build /app/worker ./worker
COPY --from=build /app/server ./server
COPY --from=build /app/sandbox ./sandbox
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/designer/dist ./designer/dist
COPY --from=build /app/deploy ./deploy
# The code stays root-owned and read-only to the process; only the data directory (secret key
# file, PGlite database, tenant mirror) is the node user's. A named volume mounted on /app/data
# starts as a copy of this directory, so it is writable by node too.
RUN mkdir -p /app/data && chown node:node /app/data && chmod 700 /app/data
VOLUME /app/data
USER node
EXPOSE 3000
CMD ["node", "server/main.ts"]
