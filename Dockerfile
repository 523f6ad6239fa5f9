# The runtime image: `mlops-runtime scheduler|agent|gateway|dataflow`.
#   docker build -t ghcr.io/cdk8s-mlops/mlops-runtime:0.1.0 .
# The tag should match package.json's version: the Runtime construct defaults to that tag.
# Without a Docker daemon, scripts/image/build.sh builds the same image as an OCI layout: both run
# scripts/image/base.sh and app.sh for the two layers, and build.sh takes the final stage's
# ENV, WORKDIR, USER and ENTRYPOINT from this file (one instruction per line, as written here).
ARG BUILD_IMAGE=debian:trixie-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    mmdebstrap ca-certificates nodejs npm \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/image ./scripts/image
# The base layer: Node.js from Debian, no shell, no package manager.
RUN mkdir -p /layers/base && bash scripts/image/base.sh /layers/base.tar \
  && tar -xf /layers/base.tar -C /layers/base && rm /layers/base.tar
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY proto ./proto
COPY src ./src
# `npm ci` runs the prepare script, which compiles src/ to lib/; then the application layer.
RUN npm ci --no-audit --no-fund \
  && mkdir -p /layers/app && bash scripts/image/app.sh . /layers/app.tar \
  && tar -xf /layers/app.tar -C /layers/app && rm /layers/app.tar

FROM scratch
COPY --from=build /layers/base/ /
COPY --from=build /layers/app/ /
ENV PATH=/usr/bin
ENV NODE_ENV=production
WORKDIR /app
# Numeric, so Kubernetes can verify runAsNonRoot; the Runtime construct sets the same runAsUser.
USER 10001:10001
ENTRYPOINT ["/usr/bin/node", "/app/bin/mlops-runtime.js"]
