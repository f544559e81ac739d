# mspauthz: a static binary on distroless, running as nonroot (uid 65532).
#   docker build --build-arg VERSION=$(git describe --always) -t mspauthz .
# docker-compose.yml builds it and runs it against a two-node SpiceDB cluster.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/mspauthz ./cmd/mspauthz

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mspauthz /mspauthz
COPY fixtures/*.yaml /fixtures/
USER nonroot:nonroot
# 8080: REST gateway (and /readyz), 50051: gRPC API.
EXPOSE 8080 50051
# No shell or curl here: health checks run `/mspauthz health --url ...`.
ENTRYPOINT ["/mspauthz"]
CMD ["serve", "--http-addr", "0.0.0.0:8080", "--grpc-addr", "0.0.0.0:50051"]
