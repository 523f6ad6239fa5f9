# The runtime image: `mlops-runtime scheduler|agent|gateway|dataflow`.
#   docker build -t ghcr.io/cdk8s-mlops/mlops-runtime:0.1.0 .
# The tag should match package.json's version: the Runtime construct defaults to that tag.
ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# tsx is a runtime dependency: the TypeScript sources run as they are, nothing is compiled.
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY proto ./proto
COPY src ./src
RUN chmod 0755 bin/mlops-runtime.js && ln -s /app/bin/mlops-runtime.js /usr/local/bin/mlops-runtime
# Numeric, so Kubernetes can verify runAsNonRoot; the Runtime construct sets the same runAsUser.
USER 10001:1000
ENTRYPOINT ["mlops-runtime"]
