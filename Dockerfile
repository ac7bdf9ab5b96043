# Parley: one static binary. Build: docker build -t parley .
# Run:  docker run -p 8080:8080 -e DATABASE_URL=... -e REDIS_URL=... parley
#       (default command is `parley serve`; pass e.g. `parley migrate` or `parley worker` instead)
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Dependencies first so this layer is cached until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/parley ./cmd/parley \
	&& mkdir -p /out/data/spool

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parley /usr/local/bin/parley
# Spool directory owned by the runtime user, so the spool works without a
# volume too (a mounted volume at /data replaces it).
COPY --from=build --chown=65532:65532 /out/data /data
# 65532 is the distroless "nonroot" user; numeric so runtimes that check
# runAsNonRoot (and Fly's volume ownership) can see it is not root.
USER 65532:65532
ENV PARLEY_ADDR=:8080 \
	PARLEY_SPOOL_DIR=/data/spool
EXPOSE 8080
CMD ["parley", "serve"]
