# syntax=docker/dockerfile:1
# An image of your own actors on Troupe (README: "Deploying your own actors").
# Your project's folder holds package.json (troupe in dependencies, typescript
# in devDependencies), package-lock.json, tsconfig.json and actors/*.ts.
# Copy this file there as Dockerfile, then:
#   docker build -t my-actors .
#   docker run --rm -p 7070:7070 my-actors
#
# The actors are compiled to .js in the build stage, so the image needs
# neither tsx nor TypeScript and starts fastest. Base image: Node 22 on
# Debian 12. Not node:24-bookworm: uWebSockets.js's Node 24 build needs
# glibc 2.38 and Debian 12 has 2.36, so a node there refuses to start
# (node:24-trixie, Debian 13, works).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY actors ./actors
RUN npx tsc -p . && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production
# Listen on every interface inside the container; list the compiled modules.
ENV TROUPE_HOST=0.0.0.0 TROUPE_ACTORS=dist/greeter.js
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 7070
ENTRYPOINT ["node", "node_modules/troupe/bin/troupe.js"]
CMD ["start"]
