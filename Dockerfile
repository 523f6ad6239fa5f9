# The runtime image: `mlops-runtime scheduler|agent|gateway|dataflow`.
#   docker build -t ghcr.io/cdk8s-mlops/mlops-runtime:0.1.0 .
# The tag should match package.json's version: the Runtime construct defaults to that tag.
ARG NODE_IMAGE=node:20.19-bookworm-slim

# Compiles src/ to lib/ (`npm ci` runs the prepare script, which builds).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund

# Production dependencies only: no TypeScript compiler; scripts skipped, there is nothing to build.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# rclone copies s3://, gs:// and az:// artifacts for the agent (Debian's package, ~57 MB
# installed); ca-certificates for the object stores' TLS.
RUN apt-get update \
  && apt-get install -y --no-install-recommends rclone ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
COPY package.json ./
COPY bin ./bin
COPY proto ./proto
RUN chmod 0755 bin/mlops-runtime.js && ln -s /app/bin/mlops-runtime.js /usr/local/bin/mlops-runtime
# Numeric, so Kubernetes can verify runAsNonRoot; the Runtime construct sets the same runAsUser.
USER 10001:10001
ENTRYPOINT ["mlops-runtime"]
