# syntax=docker/dockerfile:1
# The shop as one self-contained executable on a slim base: the build stage compiles dist/shop
# (scripts/build.ts: bun build --compile, migrations embedded), the runtime stage holds only that file.

# Same Bun as package-lock.json's devDependency, so the image and CI compile with one version.
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# bun reads package-lock.json; --production: building needs no dev tool (the image's bun compiles).
RUN bun install --frozen-lockfile --production --ignore-scripts
COPY tsconfig.json ./
COPY scripts/build.ts scripts/patch-dependencies.mjs scripts/
COPY src src
COPY modules modules
COPY drizzle drizzle
RUN bun scripts/build.ts

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --no-create-home shop
COPY --from=build /src/dist/shop /app/shop
USER shop
WORKDIR /app
# Production: the shop refuses to start without an AUTH_SECRET of its own and does not seed the demo catalog
# (docker-compose.yml overrides NODE_ENV for local development). Give it AUTH_SECRET at run time.
ENV NODE_ENV=production \
    PORT=3000
EXPOSE 3000
# `shop health` asks the running shop for /health/ready on 127.0.0.1:$PORT (exit 0 ready or degraded, 1 otherwise).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/app/shop", "health"]
ENTRYPOINT ["/app/shop"]
CMD ["serve"]
