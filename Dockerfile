# Genesis container image: a static build of cmd/genesis on an empty base.
#
#   docker build -t genesis:0.1.0 --build-arg VERSION=0.1.0 .
#   docker run -p 8080:8080 -v genesis-data:/var/lib/genesis genesis:0.1.0
#
# Without Docker, `go run ./scripts/image -out genesis-image` builds the
# same image (same user, files, entrypoint and command) as an OCI layout;
# CI builds that one and runs it (scripts/image/image_test.go). The two
# are kept in step by that test: change both together.
#
# No HEALTHCHECK: the orchestrator probes GET /healthz (liveness) and
# GET /readyz (readiness: store, blob store and audit log reachable).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# modernc.org/sqlite is pure Go: CGO_ENABLED=0 gives a static binary that
# needs no libc or ld.so in the image.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w ${VERSION:+-X github.com/genesis-science/genesis/internal/app.Version=$VERSION}" \
      -o /tmp/genesis ./cmd/genesis \
 && go run ./scripts/image -rootfs /out -binary /tmp/genesis

FROM scratch
# /out holds the binary, the build stage's Debian CA bundle, /etc/passwd
# and /etc/group (user genesis, 65532), the default config and the data
# directory: the files scripts/image puts in its layer.
COPY --from=build /out/ /
COPY --from=build --chown=65532:65532 /out/var/lib/genesis /var/lib/genesis
USER 65532:65532
WORKDIR /var/lib/genesis
ENV PATH=/usr/local/bin
EXPOSE 8080
VOLUME /var/lib/genesis
ENTRYPOINT ["/usr/local/bin/genesis"]
CMD ["serve", "--config", "/etc/genesis/genesis.yaml"]
